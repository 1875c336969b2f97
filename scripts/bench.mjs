// `npm run bench [-- <name>… ] [--quick] [--no-build] [--timeout=<min>] [--<bench flag>=<v>…]`
//
// Builds (tsc → dist/esm), then runs every bench/*.bench.ts (or those named: `pit-join`, `materialize`, …),
// each in its own Node process, one after the other, printing their output as it comes. Each bench ends with
// one line `BENCH_RESULT {"bench":"name","rows":[{"figure","value","unit","peer","ratio","goal","met"}]}`; the
// runner keeps the latest result per bench in bench/results.json and rewrites bench/RESULTS.md and the README's
// table (between `<!-- bench:start -->` and `<!-- bench:end -->`) from it, with the date, the machine's load
// (os.loadavg) and its core count beside each bench.
//
// Arguments for the benches: `--quick` is passed to every bench (small sizes); any other `--flag[=value]` is
// passed to the selected benches. A bench declares its own fixed arguments in its source with a line
// `@bench-args --flag=value …` (appended to its argv) and Node options with `@bench-node-args --expose-gc …`.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const argv = process.argv.slice(2);
const names = argv.filter((a) => !a.startsWith('--'));
const flags = argv.filter((a) => a.startsWith('--'));
const quick = flags.includes('--quick');
const noBuild = flags.includes('--no-build');
const timeoutArg = flags.find((f) => f.startsWith('--timeout='));
const timeoutMs = (timeoutArg ? Number(timeoutArg.slice(10)) : 60) * 60_000;
const passFlags = flags.filter((f) => f !== '--no-build' && !f.startsWith('--timeout='));

const all = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .sort();
const unknown = names.filter((n) => !all.includes(n.replace(/\.bench(\.ts)?$/, '')));
if (unknown.length > 0) {
  console.error(`No bench named ${unknown.join(', ')}; there are: ${all.join(', ')}`);
  process.exit(2);
}
const selected = names.length > 0 ? names.map((n) => n.replace(/\.bench(\.ts)?$/, '')) : all;

if (!noBuild) {
  console.log('bench: building (npm run build)…');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: root });
}

/** `@bench-args` / `@bench-node-args` lines of a bench's source. */
function declared(name, tag) {
  const src = readFileSync(join(root, 'bench', `${name}.bench.ts`), 'utf8');
  const out = [];
  for (const m of src.matchAll(new RegExp(`@${tag}[ \\t]+([^\\n*]+)`, 'g')))
    out.push(...m[1].trim().split(/\s+/));
  return out;
}

function runOne(name) {
  const file = join(root, 'dist', 'esm', 'bench', `${name}.bench.js`);
  if (!existsSync(file)) return Promise.resolve({ code: -1, result: null, error: `${file} was not built` });
  const args = [...declared(name, 'bench-node-args'), file, ...passFlags, ...declared(name, 'bench-args')];
  console.log(`\n=== bench ${name}: node ${args.map((a) => a.replace(root + '/', '')).join(' ')}`);
  const loadBefore = loadavg();
  const t0 = Date.now();
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let tail = '';
    let result = null;
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail += chunk.toString('utf8');
      const lines = tail.split('\n');
      tail = lines.pop();
      for (const l of lines) if (l.startsWith('BENCH_RESULT ')) result = l;
    });
    const timer = setTimeout(() => {
      console.error(`bench ${name}: no end after ${timeoutMs / 60_000} min; stopping it`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (tail.startsWith('BENCH_RESULT ')) result = tail;
      let parsed = null;
      let error = null;
      if (result) {
        try {
          parsed = JSON.parse(result.slice('BENCH_RESULT '.length));
        } catch (e) {
          error = `unreadable BENCH_RESULT line: ${e.message}`;
        }
      } else error = `exited ${signal ?? code} without a BENCH_RESULT line`;
      if (code !== 0 && !error) error = `exited ${signal ?? code}`;
      resolveRun({
        code,
        error,
        result: parsed && {
          ...parsed,
          date: new Date().toISOString(),
          seconds: Math.round((Date.now() - t0) / 1000),
          loadBefore,
          loadAfter: loadavg(),
          nproc: cpus().length,
          quick,
          args: passFlags,
        },
      });
    });
  });
}

const resultsFile = join(root, 'bench', 'results.json');
const store = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) : {};
const failures = [];
for (const name of selected) {
  const { error, result } = await runOne(name);
  if (result) store[name] = result;
  if (error) {
    failures.push(`${name}: ${error}`);
    console.error(`bench ${name}: ${error}`);
  }
  writeFileSync(resultsFile, JSON.stringify(store, null, 2) + '\n');
}

const fmt = (v) =>
  v === null || v === undefined ? '' : typeof v === 'number' ? String(Number(v.toPrecision(4))) : String(v);
const esc = (s) => fmt(s).replace(/\|/g, '\\|');
function table() {
  const lines = ['| bench | figure | value | peer | ratio | goal | met |', '|---|---|---|---|---|---|---|'];
  for (const name of Object.keys(store).sort()) {
    for (const r of store[name].rows ?? []) {
      const met = r.met === true ? 'yes' : r.met === false ? '**no**' : '';
      lines.push(
        `| ${esc(name)} | ${esc(r.figure)} | ${esc(r.value)} ${esc(r.unit)} | ${esc(r.peer)} | ${r.ratio == null ? '' : `${fmt(r.ratio)}×`} | ${esc(r.goal)} | ${met} |`,
      );
    }
  }
  const runs = Object.keys(store)
    .sort()
    .map((name) => {
      const s = store[name];
      const l = (a) => (a ?? []).map((x) => x.toFixed(2)).join(' ');
      return `- ${name}: ${s.date?.slice(0, 16).replace('T', ' ')} UTC, ${s.size ?? ''}${s.quick ? ' (--quick)' : ''}; load ${l(s.loadBefore)} → ${l(s.loadAfter)} on ${s.nproc} cores, ${s.seconds} s`;
    });
  return [
    ...lines,
    '',
    'When and under what load each bench ran (ratios are from one run, peers side by side; other work shares the machine when the load exceeds the core count):',
    '',
    ...runs,
  ].join('\n');
}
const md = [
  '# Benchmark results',
  '',
  "Written by `npm run bench` (scripts/bench.mjs) from each bench's `BENCH_RESULT` line; do not edit by hand.",
  'Ratio = cellar / peer (times: lower is better) unless the figure says otherwise.',
  '',
  table(),
  '',
].join('\n');
writeFileSync(join(root, 'bench', 'RESULTS.md'), md);

const readmePath = join(root, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const start = '<!-- bench:start -->';
const end = '<!-- bench:end -->';
const a = readme.indexOf(start);
const b = readme.indexOf(end);
if (a >= 0 && b > a) {
  writeFileSync(readmePath, readme.slice(0, a + start.length) + '\n' + table() + '\n' + readme.slice(b));
  console.log('\nbench: wrote bench/RESULTS.md and the README table');
} else console.log(`\nbench: wrote bench/RESULTS.md (README has no ${start} / ${end} markers)`);
// Keep the generated files in the project's format (`npm run lint` checks them).
const prettier = join(root, 'node_modules', '.bin', 'prettier');
if (existsSync(prettier)) {
  execFileSync(prettier, ['--write', readmePath, join(root, 'bench', 'RESULTS.md'), resultsFile], {
    cwd: root,
    stdio: 'ignore',
  });
}
if (failures.length > 0) {
  console.error(`bench: ${failures.length} failed:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
