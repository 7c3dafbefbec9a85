/**
 * ECG samples from a CSV file: one column of numbers, or one column of several chosen by header name or index.
 * The delimiter is the first of `,` `;` tab found in the first line (comma when none). A first line whose chosen
 * field is not a number is a header. Every bad line is a {@link CsvError} naming its line (1-based) and column.
 * Text in, samples out: no file system, so browsers use it too (`@ecgnn/data/formats`).
 */
import { DataError } from './errors.js';

/** A CSV file that cannot be read as samples; names the file, the line (1-based) and the column when known. */
export class CsvError extends DataError {
  constructor(
    message: string,
    /** Line of the problem (1-based), or null for the whole file. */
    readonly line: number | null = null,
    /** Column of the problem (header name, else 0-based index), or null. */
    readonly column: string | null = null,
  ) {
    super(message);
  }
}

/** Samples read from a CSV file. */
export interface CsvSamples {
  /** The values of the chosen column, in file order. */
  samples: Float32Array;
  /** The column read: its header name, or `column <index>` (0-based) without a header. */
  column: string;
  /** Whether the first line was a header. */
  header: boolean;
}

/** Splits `line` into fields at `delimiter`, trimming spaces and one pair of double quotes around each field. */
function fields(line: string, delimiter: string): string[] {
  return line.split(delimiter).map((f) => {
    const t = f.trim();
    return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).trim() : t;
  });
}

/** A field as a finite number, or null. */
function numberOf(field: string): number | null {
  if (field === '') return null;
  const x = Number(field);
  return Number.isFinite(x) ? x : null;
}

/**
 * Reads the samples of CSV `text` (from `file`, named in errors). `column`: a header name, or a 0-based index
 * (digits); default the only column (several columns need `column`).
 */
export function parseCsvSamples(text: string, file: string, column?: string): CsvSamples {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) throw new CsvError(`${file}: the file is empty`);
  const first = lines[0];
  const delimiter = [',', ';', '\t'].find((d) => first.includes(d)) ?? ',';
  const head = fields(first, delimiter);
  let index: number;
  if (column === undefined) {
    if (head.length > 1)
      throw new CsvError(
        `${file}: ${head.length} columns (${head.join(', ')}): choose one (--column <name or 0-based index>)`,
        1,
      );
    index = 0;
  } else if (/^\d+$/.test(column)) {
    index = Number(column);
    if (index >= head.length)
      throw new CsvError(
        `${file}: --column ${column}: line 1 has ${head.length} columns (0…${head.length - 1})`,
        1,
      );
  } else {
    index = head.indexOf(column);
    if (index < 0)
      throw new CsvError(
        `${file}: no column named '${column}' in the header (line 1: ${head.join(', ')})`,
        1,
        column,
      );
  }
  const header = numberOf(head[index]) === null;
  const name = header ? head[index] : `column ${index}`;
  const start = header ? 1 : 0;
  const samples = new Float32Array(lines.length - start);
  let n = 0;
  for (let i = start; i < lines.length; i++) {
    const f = fields(lines[i], delimiter);
    const where = `${file}, line ${i + 1}, ${header ? `column '${name}'` : name}`;
    if (f.length <= index)
      throw new CsvError(
        `${where}: the line has ${f.length} field(s), not the ${index + 1} needed`,
        i + 1,
        name,
      );
    const x = numberOf(f[index]);
    if (x === null) throw new CsvError(`${where}: '${f[index]}' is not a number`, i + 1, name);
    samples[n++] = x;
  }
  if (n === 0) throw new CsvError(`${file}: no samples after the header`, null, name);
  return { samples, column: name, header };
}
