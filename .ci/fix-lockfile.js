#!/usr/bin/env node
// Makes package-lock.json acceptable to `npm ci` again after an `npm install` on this workplace's registry.
//
// Why by hand: npm leaves platform-specific optional dependencies out of the lock file when the registry it
// resolves against does not serve them (npm/cli#4828, #8320), and `npm ci` then refuses the lock with
// "Missing: <pkg>@ from lock file". No npm flag restores them, so this adds one entry per missing package,
// with its os/cpu(/libc) so that npm skips it on every platform but its own — what a complete lock holds.
// Usage: node .ci/fix-lockfile.js   (then commit package-lock.json)
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const lockPath = path.join(root, 'package-lock.json');
const OS = [
  'darwin',
  'linux',
  'win32',
  'android',
  'freebsd',
  'openbsd',
  'netbsd',
  'sunos',
  'aix',
  'openharmony',
];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el', 'wasm32'];

function missingPackages() {
  const dry = spawnSync('npm', ['ci', '--dry-run', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  const text = `${dry.stdout}\n${dry.stderr}`;
  return [...text.matchAll(/Missing: (\S+?)@\S* from lock file/g)].map((m) => m[1]);
}

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.find((p) => CPU.includes(p));
  const libc = parts.some((p) => p.startsWith('musl'))
    ? 'musl'
    : parts.some((p) => p.startsWith('gnu'))
      ? 'glibc'
      : undefined;
  if (!cpu || (!os && cpu !== 'wasm32')) throw new Error(`cannot tell the platform of ${name}`);
  return { cpu: [cpu], ...(libc ? { libc: [libc] } : {}), ...(os ? { os: [os] } : {}) };
}

const missing = missingPackages();
if (missing.length === 0) {
  console.log('package-lock.json is complete');
  process.exit(0);
}
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
for (const name of missing) {
  const spec = Object.values(lock.packages).find((entry) => entry.optionalDependencies?.[name])
    ?.optionalDependencies[name];
  if (spec === undefined) throw new Error(`no package declares ${name} as an optional dependency`);
  let entry;
  try {
    const view = JSON.parse(
      execFileSync(
        'npm',
        ['view', `${name}@${spec}`, '--json', 'version', 'dist.integrity', 'os', 'cpu', 'libc'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
      ),
    );
    const v = Array.isArray(view) ? view[view.length - 1] : view;
    entry = { version: v.version, integrity: v['dist.integrity'], ...platformOf(name), optional: true };
  } catch {
    entry = { version: spec.replace(/^[\^~=]/, ''), ...platformOf(name), optional: true };
  }
  lock.packages[`node_modules/${name}`] = entry;
  console.log(`added ${name}@${entry.version}`);
}
const sorted = { '': lock.packages[''] };
for (const key of Object.keys(lock.packages)
  .filter((k) => k !== '')
  .sort())
  sorted[key] = lock.packages[key];
lock.packages = sorted;
fs.writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
const left = missingPackages();
if (left.length > 0) throw new Error(`still missing: ${left.join(', ')}`);
console.log(`package-lock.json fixed: ${missing.length} entries added`);
