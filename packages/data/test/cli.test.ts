import { expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { DATA_DIR, describeWithData } from './data-helper.js';

it('prints usage and rejects unknown commands or malformed options', async () => {
  const out: string[] = [];
  expect(await runCli([], (s) => out.push(s))).toBe(0);
  expect(out.join('\n')).toMatch(/usage: ecgnn-data/);
  expect(await runCli(['nope'], (s) => out.push(s))).toBe(2);
  expect(await runCli(['summary', '--data-dir'], (s) => out.push(s))).toBe(2);
  expect(await runCli(['info', 'mitdb', '100', '--data-dir', '/nonexistent/dir'], (s) => out.push(s))).toBe(
    1,
  );
  expect(out.at(-1)).toMatch(/error: header not found: \/nonexistent\/dir\/mitdb\/100\.hea/);
});

describeWithData('mitdb', 'CLI on mitdb', () => {
  it('summary and info honour --data-dir', async () => {
    const out: string[] = [];
    expect(await runCli(['summary', '--data-dir', DATA_DIR], (s) => out.push(s))).toBe(0);
    const text = out.join('\n');
    expect(text).toContain(`data directory: ${DATA_DIR}`);
    expect(text).toMatch(/train\s+45866\s+944\s+3788\s+415\s+8\s+51021/);
    expect(text).toMatch(/test\s+44259\s+1837\s+3221\s+388\s+7\s+49712/);
    out.length = 0;
    expect(await runCli(['info', 'mitdb', '208', `--data-dir=${DATA_DIR}`], (s) => out.push(s))).toBe(0);
    expect(out.join('\n')).toMatch(/AAMI beats: N 1586 {2}S 2 {2}V 992 {2}F 373 {2}Q 2/);
  });
});
