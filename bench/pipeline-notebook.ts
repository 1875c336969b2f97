/**
 * bench/pipeline-notebook — writes the tagged notebooks the pipeline benchmarks export with `cellar export`:
 * steps that import and use cellar as the example notebooks do (`import { ElasticNet, … } from 'cellar'`,
 * fit a tiny model, log a metric in a tracked run). Not a benchmark itself.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One notebook cell: its tags and source. */
type Cell = [tags: string[], source: string];

function toIpynb(cells: Cell[]): object {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
    cells: cells.map(([tags, source], i) => ({
      cell_type: 'code',
      id: `c${i}`,
      metadata: tags.length > 0 ? { tags } : {},
      execution_count: null,
      outputs: [],
      source,
    })),
  };
}

const IMPORTS = `import { ElasticNet, rmse, withRun } from 'cellar';`;

/** A tiny model fitted with cellar (a few rows, two features): what a training step of the examples does. */
function fitLines(i: number): string {
  return [
    `const X${i} = [[0, 1], [1, 0], [2, 1], [3, 3], [4, 2], [5, 5]];`,
    `const y${i} = X${i}.map((r) => 0.5 * r[0] - 0.25 * r[1] + ${i % 7});`,
    `const m${i} = new ElasticNet({ alpha: 0.01, l1Ratio: 0.5 }).fit(X${i}, y${i});`,
    `const e${i} = rmse(y${i}, Array.from(m${i}.predict(X${i})));`,
  ].join('\n');
}

/**
 * A chain notebook: step `s<i>` reads `v<i-1>` (a data edge), fits a tiny cellar model and waits until the
 * step has taken `stepMs`; the last step logs a metric in a tracked run; a `pipeline-metrics` cell reports it.
 */
export function chainNotebook(steps: number, stepMs: number): object {
  const cells: Cell[] = [
    [['imports'], IMPORTS],
    [['pipeline-parameters'], `const stepMs = ${stepMs};`],
  ];
  for (let i = 0; i < steps; i++) {
    const prev = i === 0 ? '0' : `v${i - 1}.n`;
    const body = [
      `const t${i} = Date.now();`,
      fitLines(i),
      `const v${i} = { n: ${prev} + 1, err: e${i} };`,
      `await new Promise((r) => setTimeout(r, Math.max(0, stepMs - (Date.now() - t${i}))));`,
    ];
    if (i === steps - 1) {
      body.push(
        `const finalRmse = await withRun({ experiment: 'bench-chain', runName: 'last-step' }, async (run) => {`,
        `  await run.logMetrics({ chain_length: v${i}.n, rmse: e${i} });`,
        `  return e${i};`,
        `});`,
      );
    }
    cells.push([[`step:s${i}`], body.join('\n')]);
  }
  cells.push([['pipeline-metrics'], 'finalRmse;']);
  return toIpynb(cells);
}

/** A fan-out notebook: `steps` independent steps, each fitting a tiny cellar model and nothing else. */
export function fanoutNotebook(steps: number): object {
  const cells: Cell[] = [[['imports'], IMPORTS]];
  for (let i = 0; i < steps; i++) cells.push([[`step:n${i}`], fitLines(i)]);
  return toIpynb(cells);
}

/** Writes a notebook object as `<dir>/<name>.ipynb` and returns the path. */
export function writeNotebookFile(dir: string, name: string, nb: object): string {
  const path = join(dir, `${name}.ipynb`);
  writeFileSync(path, JSON.stringify(nb, null, 1));
  return path;
}
