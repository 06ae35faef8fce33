// Why: the lab's brd ramdisk is loaded in two places, by stage 1 at boot (src/vm/initramfs.ts)
// and by the target set-up when a scenario wants another shape; both take its parameters
// from here, so the set-up can tell whether the boot's ramdisks are the ones it wants.

/** The lab's ramdisk size: it stores data, so every acknowledged write can be read back. */
export const LAB_RAMDISK_MIB = 256;

/** brd's parameters for `count` ramdisks of `mib` MiB each (rd_size is in KiB). */
export function brdParams(count: number, mib: number): string[] {
  return [`rd_nr=${count}`, `rd_size=${mib * 1024}`];
}
