import { createReadStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { type LineChunk, chunkRows, readJsonlLines, readLineChunks } from '../../../src/files/index.js';

const dir = mkdtempSync(join(tmpdir(), 'lines-'));
const MiB = 1 << 20;

/** What node's readline made of a file (how JSONL was read before): the oracle. */
async function readlineRows(path: string): Promise<Array<{ row: number; line: string }>> {
  const out: Array<{ row: number; line: string }> = [];
  let row = 0;
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY })) {
    row++;
    if (line.trim() !== '') out.push({ row, line });
  }
  return out;
}

async function chunks(path: string, linesPerChunk: number, skipLines?: number): Promise<LineChunk[]> {
  const out: LineChunk[] = [];
  for await (const c of readLineChunks(path, { linesPerChunk, skipLines })) out.push(c);
  return out;
}

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

// Inputs whose line breaks and bytes sit where a block reader could go wrong: between blocks, at the end, inside
// a multi-byte character, longer than a block.
const cases: Record<string, string | Buffer> = {
  empty: '',
  'no final break': 'a\nb\nc',
  'CRLF, lone CR, blank and white-space lines': 'a\r\nb\rc\n\n  \n\t\r\nd\r\n\r\ne',
  'a CR last in the file': 'a\nb\r',
  'only breaks': '\n\r\n\r\r\n',
  'a CRLF split across the first block': `${'x'.repeat(MiB - 1)}\r\n${'y'.repeat(10)}\n`,
  'a lone CR at the end of the first block': `${'x'.repeat(MiB - 1)}\r${'y'.repeat(10)}\n`,
  'a line longer than two blocks': `short\n${'z'.repeat(2 * MiB + 17)}\nafter\n`,
  'multi-byte characters across a block boundary': `${'é'.repeat(MiB / 2 + 3)}\n€ and 😀\n`,
  'invalid UTF-8 before a break': Buffer.concat([Buffer.from('ok\n'), Buffer.from([0xe2, 0x82]), Buffer.from('\n{"a":1}\xff\n', 'latin1')]),
};

describe('reading a JSONL file as chunks of lines', () => {
  for (const [name, content] of Object.entries(cases)) {
    it(`finds the lines, rows and text readline did: ${name}`, async () => {
      const path = file(`${name.replace(/\W+/g, '-')}.jsonl`, content);
      const expected = await readlineRows(path);
      for (const linesPerChunk of [1, 2, 1024]) {
        const got = (await chunks(path, linesPerChunk)).flatMap((c) => chunkRows(c));
        expect(got).toEqual(expected);
      }
      const lines: Array<{ row: number; line: string }> = [];
      for await (const l of readJsonlLines(path)) lines.push(l);
      expect(lines).toEqual(expected);
    });
  }

  it('cuts chunks of exactly linesPerChunk lines (the last may hold fewer), numbered on, each in a buffer of its own', async () => {
    const text = Array.from({ length: 5000 }, (_, i) => (i % 7 === 0 ? '' : `{"n":${i}}`)).join('\n');
    const path = file('many.jsonl', `${text}\n`);
    const got = await chunks(path, 300);
    expect(got.map((c) => c.lines)).toEqual([...Array.from({ length: 16 }, () => 300), 200]);
    got.forEach((c, i) => {
      expect(c.firstRow).toBe(i * 300 + 1);
      expect(c.bytes.byteOffset).toBe(0);
      expect(c.bytes.buffer.byteLength).toBe(c.bytes.byteLength);
    });
    // A chunk far larger than a block (its bytes assembled over many reads) holds the same lines.
    const big = await chunks(file('big.jsonl', `${Array.from({ length: 6000 }, (_, i) => `{"pad":"${'p'.repeat(900)}","n":${i}}`).join('\n')}\n`), 5000);
    expect(big.map((c) => [c.firstRow, c.lines])).toEqual([
      [1, 5000],
      [5001, 1000],
    ]);
    expect(chunkRows(big[1] as LineChunk)[999]?.line).toContain('"n":5999');
  });

  it('skips the first skipLines lines, blank ones included, and numbers the rest as readline did', async () => {
    const path = file('skip.jsonl', cases['CRLF, lone CR, blank and white-space lines'] as string);
    const expected = await readlineRows(path);
    for (const skip of [0, 1, 3, 5, 7, 9, 20]) {
      const got = (await chunks(path, 2, skip)).flatMap((c) => chunkRows(c));
      expect(got).toEqual(expected.filter((r) => r.row > skip));
    }
    const big = file('skip-big.jsonl', cases['a CRLF split across the first block'] as string);
    expect((await chunks(big, 1, 1)).flatMap((c) => chunkRows(c))).toEqual([{ row: 2, line: 'y'.repeat(10) }]);
  });
});
