// nvmet target (configfs) and NVMe-oF host (/dev/nvme-fabrics, sysfs).
export * from './errors.js';
export * from './model.js';
export * from './nvmet.js';
export * from './fabrics.js';
