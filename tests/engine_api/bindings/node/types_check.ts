// Compiled (never run) by tsc --strict (CTest engine_api_node_types): the README's uses of
// @wfa/runner type-check against index.d.ts, and misuses are type errors.
import { openFlow, TokenPool, Flow, RowResult, LogLevel, OpenFlowError } from '../../../../engine_api/bindings/node';

async function main(): Promise<void> {
  const pool = new TokenPool({ waitMs: 20 });
  pool.add(40);
  const demand: number = pool.takeDemand();
  const left: number = pool.available + pool.drain() + demand;
  const flow: Flow = openFlow('link.flow.json', {
    budget: pool,
    logLevel: 'warn',
    maxRetryWaitS: 0xffffffff,
    noStepOutputs: false,
    onLog: (level: LogLevel, line: string) => console.error(level, line),
  });
  const reasons: string | null = flow.check({ primary_user_id: 'a' });
  const ac = new AbortController();
  const r: RowResult = await flow.run({ primary_user_id: 'a' }, { row: left, signal: ac.signal });
  const fromText: RowResult = await flow.run('{"primary_user_id":"a"}');
  if (r.status === 'failed' && r.code === 'rate_limited' && r.retryable) console.log(r.retryAfterS, r.line);
  console.log(reasons, fromText.status, flow.closed);
  await flow.close();
  try {
    openFlow('missing.flow.json');
  } catch (e) {
    console.log((e as OpenFlowError).code);
  }

  // @ts-expect-error: a status that does not exist
  if (r.status === 'done') console.log();
  // @ts-expect-error: inputs must be an object or a JSON text
  await flow.run(42);
  // @ts-expect-error: not a log level
  openFlow('f.json', { logLevel: 'loud' });
  // @ts-expect-error: a budget is a TokenPool
  openFlow('f.json', { budget: { available: 3 } });
  // @ts-expect-error: available is read-only
  pool.available = 3;
  // @ts-expect-error: flows come from openFlow only
  new Flow();
}
main();
