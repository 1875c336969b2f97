/**
 * The extension's request layer (extension/src/bridge.ts) with fake kernels: the code it sends embeds the
 * request as a safe string literal, replies are matched by id, cellar errors keep their code and details,
 * and a request without a reply (cellar missing, kernel error or abort, dead kernel, deadline) fails with a
 * message that says why. The last tests run the generated code for real against kernel-lib's bridge.
 */
import ts from 'typescript';
import {
  BridgeClient,
  BridgeError,
  bridgeCode,
  explainMissingReply,
  replyOf,
  type Execution,
  type ExecuteOutcome,
  type IOPubMessage,
  type Transport,
} from '../../extension/src/bridge.js';
import { BRIDGE_MIME, type StatusResult } from '../../extension/src/protocol.js';
import { handle } from '../../kernel-lib/bridge/index.js';
import { setDisplaySink, type MimeBundle } from '../../kernel-lib/display/sink.js';
import { getStore, useStore } from '../../kernel-lib/index.js';
import { cleanupTmp, makeTmp } from '../helpers/tmp.js';

/** A kernel that answers each execute request with `answer(request)`'s messages and outcome. */
class FakeKernel implements Transport {
  readonly sent: string[] = [];
  disposed = 0;

  constructor(
    private readonly answer: (
      code: string,
    ) => { messages: IOPubMessage[]; outcome: ExecuteOutcome } | 'never',
  ) {}

  execute(code: string, onMessage: (msg: IOPubMessage) => void): Execution {
    this.sent.push(code);
    const reply = this.answer(code);
    const done =
      reply === 'never'
        ? new Promise<ExecuteOutcome>(() => undefined)
        : (async () => {
            await Promise.resolve();
            for (const m of reply.messages) onMessage(m);
            return reply.outcome;
          })();
    return { done, dispose: () => (this.disposed += 1) };
  }
}

/** The request a generated code string carries (the string literal decoded twice). */
function requestIn(code: string): { id: string; op: string; args: Record<string, unknown> } {
  const literal = /handle\(("(?:[^"\\]|\\.)*")\)/.exec(code)?.[1];
  if (!literal) throw new Error(`no string literal in ${code}`);
  return JSON.parse(JSON.parse(literal) as string);
}

function display(response: unknown): IOPubMessage {
  return {
    msgType: 'display_data',
    content: { data: { [BRIDGE_MIME]: response, 'text/plain': 'x' }, metadata: {} },
  };
}

const OK: ExecuteOutcome = { status: 'ok' };

test('the generated code carries the request as a JSON string literal', () => {
  const args = { name: 'a"b\\c\n</script>${x}`\u2028\u2029 ü 🚀', n: 1.5, nested: { list: [null, true] } };
  const code = bridgeCode({ id: 'id-1', op: 'registerModel', args });
  expect(code.startsWith('try { await require("cellar").bridge.handle("')).toBe(true);
  expect(code).not.toContain('\n');
  expect(code).not.toContain('\u2028');
  expect(requestIn(code)).toEqual({ id: 'id-1', op: 'registerModel', args });
});

test('a reply is matched to its request and resolves with the result', async () => {
  const kernel = new FakeKernel((code) => {
    const { id } = requestIn(code);
    return {
      messages: [
        { msgType: 'stream', content: { name: 'stdout', text: 'noise\n' } },
        display({ id: 'someone-else', ok: true, result: 'wrong' }),
        display({ id, ok: true, result: { storeRoot: '/x' } }),
      ],
      outcome: OK,
    };
  });
  const client = new BridgeClient(() => kernel);
  await expect(client.request('status', { a: 1 })).resolves.toEqual({ storeRoot: '/x' });
  expect(requestIn(kernel.sent[0]!)).toMatchObject({ op: 'status', args: { a: 1 } });
  expect(kernel.disposed).toBe(1);
});

test('request ids are unique', () => {
  const kernel = new FakeKernel(() => 'never');
  const client = new BridgeClient(() => kernel, { timeoutMs: 10 });
  const requests = [1, 2, 3].map(() => client.request('status').catch(() => undefined));
  const ids = kernel.sent.map((c) => requestIn(c).id);
  expect(new Set(ids).size).toBe(3);
  return Promise.all(requests);
});

test('a cellar error reply keeps its code, message and details', async () => {
  const details = { errors: [{ cell: 2, step: 'train', message: 'reads `model`' }] };
  const kernel = new FakeKernel((code) => ({
    messages: [
      display({
        id: requestIn(code).id,
        ok: false,
        error: { code: 'INVALID_INPUT', message: 'bad tags', details },
      }),
    ],
    outcome: OK,
  }));
  const error = await new BridgeClient(() => kernel).request('planExport').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(BridgeError);
  expect(error).toMatchObject({ code: 'INVALID_INPUT', message: 'bad tags', details, op: 'planExport' });
});

test('no kernel, a throwing kernel and a deadline are reported, not hung', async () => {
  await expect(new BridgeClient(() => null).request('status')).rejects.toMatchObject({ code: 'NO_KERNEL' });
  const throwing: Transport = {
    execute() {
      throw new Error('Kernel is dead');
    },
  };
  await expect(new BridgeClient(() => throwing).request('status')).rejects.toMatchObject({
    code: 'NO_KERNEL',
  });
  const silent = new FakeKernel(() => 'never');
  const error = await new BridgeClient(() => silent, { timeoutMs: 20 })
    .request('listRuns')
    .catch((e: unknown) => e);
  expect(error).toMatchObject({ code: 'TIMEOUT' });
  expect(silent.disposed).toBe(1);
});

test('a finished request without a reply explains why', async () => {
  const cases: Array<[IOPubMessage[], ExecuteOutcome, string, RegExp]> = [
    [
      [
        {
          msgType: 'stream',
          content: {
            name: 'stderr',
            text: "cellar bridge: Error: Cannot find module 'cellar'\nRequire stack: …",
          },
        },
      ],
      OK,
      'KERNEL_ERROR',
      /npm install cellar/,
    ],
    [
      [
        {
          msgType: 'stream',
          content: {
            name: 'stderr',
            text: "cellar bridge: TypeError: Cannot read properties of undefined (reading 'handle') bridge",
          },
        },
      ],
      OK,
      'KERNEL_ERROR',
      /too old/,
    ],
    [
      [{ msgType: 'stream', content: { name: 'stderr', text: "1:13 - Cannot find name 'require'." } }],
      { status: 'error' },
      'KERNEL_ERROR',
      /Cannot find name 'require'/,
    ],
    [[], { status: 'abort' }, 'ABORTED', /earlier cell failed/],
    [[], OK, 'NO_REPLY', /tslab/],
  ];
  for (const [messages, outcome, code, message] of cases) {
    const kernel = new FakeKernel(() => ({ messages, outcome }));
    const error = (await new BridgeClient(() => kernel)
      .request('status')
      .catch((e: unknown) => e)) as BridgeError;
    expect({ code: error.code, matches: message.test(error.message) }).toEqual({ code, matches: true });
  }
  expect(explainMissingReply('x', { status: 'error', ename: 'E', evalue: 'boom' }, '').message).toContain(
    'E: boom',
  );
});

test('replyOf ignores unrelated messages and flags malformed replies', () => {
  expect(replyOf({ msgType: 'status', content: { execution_state: 'idle' } })).toBeNull();
  expect(replyOf({ msgType: 'display_data', content: { data: { 'text/plain': 'hi' } } })).toBeNull();
  expect(replyOf(display('not json'))).toMatchObject({ ok: false, error: { code: 'BAD_REPLY' } });
  expect(replyOf(display(JSON.stringify({ id: '1', ok: true, result: 3 })))).toEqual({
    id: '1',
    ok: true,
    result: 3,
  });
  expect(replyOf(display({ id: '1', ok: false, error: 'x' }))).toMatchObject({
    ok: false,
    error: { code: 'INTERNAL' },
  });
});

describe('against the real kernel-side bridge', () => {
  beforeEach(() => useStore(makeTmp()));
  afterEach(() => {
    setDisplaySink(null);
    getStore().close();
    cleanupTmp();
  });

  /** A transport that runs the generated TypeScript like tslab does, with `require("cellar")` = kernel-lib. */
  function inProcessKernel(): Transport {
    return {
      execute(code, onMessage) {
        const js = ts.transpileModule(code, {
          compilerOptions: { target: ts.ScriptTarget.ES2022 },
        }).outputText;
        const fakeRequire = (id: string): unknown => {
          if (id !== 'cellar') throw new Error(`Cannot find module '${id}'`);
          return { bridge: { handle } };
        };
        const messages: IOPubMessage[] = [];
        setDisplaySink((bundle: MimeBundle) =>
          messages.push({ msgType: 'display_data', content: { data: bundle } }),
        );
        const errors: string[] = [];
        const consoleLike = { error: (text: string) => errors.push(text) };
        const run = new Function('require', 'console', `return (async () => { ${js} })();`) as (
          r: typeof fakeRequire,
          c: typeof consoleLike,
        ) => Promise<void>;
        const done = run(fakeRequire, consoleLike).then(() => {
          for (const m of messages) onMessage(m);
          for (const e of errors) onMessage({ msgType: 'stream', content: { name: 'stderr', text: e } });
          return { status: 'ok' };
        });
        return { done, dispose: () => undefined };
      },
    };
  }

  test('status goes through the generated code and comes back', async () => {
    const client = new BridgeClient(() => inProcessKernel());
    const status = await client.request<StatusResult>('status', { notebookPath: 'a "b" </script>.ipynb' });
    expect(status.storeRoot).toBe(getStore().root);
    expect(status.protocol).toBe(1);
  });

  test('request text cannot break out of the string literal', async () => {
    const g = globalThis as { __cellarPwned?: number };
    const hostile = '"); globalThis.__cellarPwned = 1; ("\\"); globalThis.__cellarPwned = 2; //';
    const client = new BridgeClient(() => inProcessKernel());
    await expect(
      client.request('status', { notebookPath: hostile, defaultExperiment: hostile }),
    ).resolves.toBeDefined();
    expect(g.__cellarPwned).toBeUndefined();
  });

  test('kernel-side errors arrive as BridgeErrors with cellar codes', async () => {
    const client = new BridgeClient(() => inProcessKernel());
    await expect(client.request('registerModel', { name: '' })).rejects.toMatchObject({
      code: 'INVALID_PARAMETER',
    });
    await expect(client.request('noSuchOp')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });
});
