/**
 * The tslab path of the display sink, with a stand-in for the tslab kernel: the `__tslab__` global
 * its executor installs, its public module (with `display.raw`) and its `jupyter` module (holding
 * the current cell's display writer), registered in the CommonJS module cache as tslab's are.
 * The real kernel is exercised by the notebook tests.
 */
import Module from 'node:module';
import path from 'node:path';
import {
  PLOTLY_MIME,
  isInsideTslab,
  plot,
  scatter,
  setDisplaySink,
  table,
} from '../../../kernel-lib/display/index.js';
import { resetTslabLookupForTests } from '../../../kernel-lib/display/sink.js';

const cache = (Module as unknown as { _cache: Record<string, unknown> })._cache;
const dir = path.join(path.sep, 'fake-tslab', 'dist');
const publicFile = path.join(dir, 'public.js');
const jupyterFile = path.join(dir, 'jupyter.js');

let raw: jest.Mock;
let writer: jest.Mock;

beforeEach(() => {
  raw = jest.fn();
  writer = jest.fn();
  const pub = { display: { raw } };
  cache[publicFile] = { exports: pub };
  cache[jupyterFile] = { exports: { lastWriteDisplayData: writer } };
  (globalThis as Record<string, unknown>).__tslab__ = {
    require: (id: string) => (id === 'tslab' ? pub : undefined),
  };
  resetTslabLookupForTests();
  setDisplaySink(null);
});

afterEach(() => {
  delete cache[publicFile];
  delete cache[jupyterFile];
  delete (globalThis as Record<string, unknown>).__tslab__;
  resetTslabLookupForTests();
});

it('detects the kernel by its global', () => {
  expect(isInsideTslab()).toBe(true);
  delete (globalThis as Record<string, unknown>).__tslab__;
  expect(isInsideTslab()).toBe(false);
});

it('sends the whole bundle as one display_data message through tslab', () => {
  const result = plot(scatter([1, 2], [3, 4]));
  expect(writer).toHaveBeenCalledTimes(1);
  const [msg, update] = writer.mock.calls[0] as [{ data: Record<string, unknown> }, boolean];
  expect(update).toBe(false);
  expect(Object.keys(msg.data).sort()).toEqual([PLOTLY_MIME, 'text/html', 'text/plain'].sort());
  expect(msg.data[PLOTLY_MIME]).toEqual(result[PLOTLY_MIME]);
  expect(JSON.parse(JSON.stringify(msg))).toEqual(msg);
  expect(raw).not.toHaveBeenCalled();
});

it("falls back to tslab's display.raw with the primary MIME type when the writer is not reachable", () => {
  delete cache[jupyterFile];
  const result = plot(scatter([1], [2]));
  expect(raw).toHaveBeenCalledTimes(1);
  expect(raw).toHaveBeenCalledWith(PLOTLY_MIME, result[PLOTLY_MIME]);
  table([{ a: 1 }]);
  expect(raw).toHaveBeenLastCalledWith('text/html', expect.stringContaining('<table'));
});

it('does not fail the cell when tslab cannot display', () => {
  writer.mockImplementation(() => {
    throw new Error('Not ready');
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    expect(() => plot(scatter([1], [2]))).not.toThrow();
    expect(err).toHaveBeenCalledWith(expect.stringContaining('Not ready'));
  } finally {
    err.mockRestore();
  }
});

it('a custom sink takes precedence over tslab', () => {
  const sink = jest.fn();
  setDisplaySink(sink);
  try {
    plot(scatter([1], [2]));
    expect(sink).toHaveBeenCalledTimes(1);
    expect(writer).not.toHaveBeenCalled();
  } finally {
    expect(setDisplaySink(null)).toBe(sink);
  }
});
