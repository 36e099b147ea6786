// Reports the production bundle's size (raw and gzip) after `vite build`.
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const dist = path.join(path.dirname(path.dirname(new URL(import.meta.url).pathname)), "dist");
const rows = [];
const walk = (dir) => {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (/\.(js|css|html)$/.test(entry.name)) {
      const data = fs.readFileSync(full);
      rows.push({ file: path.relative(dist, full), raw: data.length, gzip: zlib.gzipSync(data).length });
    }
  }
};
walk(dist);
rows.sort((a, b) => b.raw - a.raw);
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
let raw = 0;
let gzip = 0;
for (const row of rows) {
  raw += row.raw;
  gzip += row.gzip;
  console.log(`  ${row.file.padEnd(48)} ${kb(row.raw).padStart(11)} ${kb(row.gzip).padStart(11)} gzip`);
}
console.log(`bundle: ${kb(raw)} (${kb(gzip)} gzip) in ${rows.length} files`);
fs.writeFileSync(path.join(dist, "bundle-size.json"), JSON.stringify({ raw, gzip, files: rows }, null, 2));
