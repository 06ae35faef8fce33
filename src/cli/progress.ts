// Progress for long work: a rewritten status line on a TTY, plain time-stamped lines otherwise.
const start = Date.now();

export type Progress = (msg: string) => void;

export function makeProgress(quiet = false): Progress {
  if (quiet) return () => {};
  const tty = process.stderr.isTTY;
  return (msg: string) => {
    const t = ((Date.now() - start) / 1000).toFixed(1).padStart(6);
    if (tty) process.stderr.write(`\r\x1b[2K[${t}s] ${msg}\n`);
    else process.stderr.write(`[${t}s] ${msg}\n`);
  };
}
