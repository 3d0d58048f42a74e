// Real traces: CSV `TIMESTAMP,ContextTokens,GeneratedTokens` (the Azure LLM inference trace 2023). A bad
// file is a TraceError naming the file, the line and what is wrong with it; nothing is skipped silently.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TraceRow {
  /** ms after the trace's first request. */
  readonly timeMs: number;
  readonly contextTokens: number;
  readonly generatedTokens: number;
}

export class TraceError extends Error {
  constructor(
    readonly source: string,
    readonly line: number,
    problem: string,
  ) {
    super(`trace ${source}, line ${line}: ${problem}`);
    this.name = 'TraceError';
  }
}

const HEADER = ['TIMESTAMP', 'ContextTokens', 'GeneratedTokens'];
/** The conversation trace shipped with the package (19,366 requests over one hour). */
export const CONVERSATION_TRACE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'data', 'azure-llm-2023-conv.csv');

const STAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/;

/** A timestamp as ms since the epoch: `YYYY-MM-DD hh:mm:ss[.fraction]` (UTC) or a number of seconds. */
function parseTimestamp(text: string): number | undefined {
  const m = STAMP.exec(text);
  if (m) {
    const [, y, mo, d, h, mi, s, frac] = m;
    const whole = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
    const date = new Date(whole);
    if (date.getUTCMonth() !== +mo - 1 || date.getUTCDate() !== +d || +h > 23 || +mi > 59 || +s > 59) return undefined;
    return whole + (frac ? Number(`0.${frac}`) * 1000 : 0);
  }
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  return undefined;
}

function parseCount(text: string, column: string, source: string, line: number, min: number): number {
  if (!/^\d+$/.test(text)) throw new TraceError(source, line, `${column} "${text}" is not a whole number`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) throw new TraceError(source, line, `${column} ${text} must be at least ${min}`);
  return n;
}

/** Parses a trace's text; `source` names it in errors. Rows must be in time order. */
export function parseTrace(text: string, source: string): TraceRow[] {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').replace(/^\uFEFF/, '').split(',').map((h) => h.trim());
  if (header.length !== HEADER.length || header.some((h, i) => h !== HEADER[i])) {
    throw new TraceError(source, 1, `the header must be "${HEADER.join(',')}", got "${lines[0] ?? ''}"`);
  }
  const rows: TraceRow[] = [];
  let first: number | undefined;
  let previous = -Infinity;
  for (let i = 1; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i].trim();
    if (raw === '') {
      if (lines.slice(i + 1).some((l) => l.trim() !== '')) throw new TraceError(source, lineNo, 'empty line inside the trace');
      break;
    }
    const cells = raw.split(',').map((c) => c.trim());
    if (cells.length !== HEADER.length) throw new TraceError(source, lineNo, `expected ${HEADER.length} columns, got ${cells.length}`);
    const stamp = parseTimestamp(cells[0]);
    if (stamp === undefined) throw new TraceError(source, lineNo, `TIMESTAMP "${cells[0]}" is not "YYYY-MM-DD hh:mm:ss[.fraction]" or a number of seconds`);
    if (stamp < previous) throw new TraceError(source, lineNo, `TIMESTAMP ${cells[0]} is earlier than the line before: rows must be in time order`);
    previous = stamp;
    first ??= stamp;
    rows.push({
      timeMs: stamp - first,
      contextTokens: parseCount(cells[1], 'ContextTokens', source, lineNo, 1),
      generatedTokens: parseCount(cells[2], 'GeneratedTokens', source, lineNo, 0),
    });
  }
  if (rows.length === 0) throw new TraceError(source, 2, 'the trace has no requests');
  return rows;
}

export async function loadTrace(path: string): Promise<TraceRow[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`trace ${path}: cannot read it (${error instanceof Error ? error.message : String(error)})`);
  }
  return parseTrace(text, path);
}
