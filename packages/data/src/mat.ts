// MATLAB level-4 (.mat v4) reader: just what the 17-class fragment set needs, with bounds checks.
import { FormatError } from './errors.js';

/** One variable of a MATLAB v4 file. */
export interface MatVariable {
  /** Variable name. */
  name: string;
  /** Number of rows. */
  rows: number;
  /** Number of columns. */
  cols: number;
  /** Real part, column-major, converted to float64. */
  data: Float64Array;
  /** Imaginary part when the variable is complex. */
  imag: Float64Array | undefined;
  /** Whether the variable was stored as text (T = 1). */
  isText: boolean;
}

// NOTE: precision digit P of the type code MOPT: 0 double, 1 single, 2 int32, 3 int16, 4 uint16, 5 uint8.
const ELEMENT_BYTES = [8, 4, 4, 2, 2, 1];

/**
 * Reads all variables of a MATLAB v4 file. Each variable: a 20-byte header of five int32
 * (type = M·1000 + O·100 + P·10 + T, rows, cols, imagf, namlen), the name (namlen bytes with a
 * trailing NUL), then rows·cols elements (column-major), then as many imaginary ones if imagf.
 * M = 0 is little-endian, 1 big-endian (detected per variable); sparse matrices (T = 2) are
 * rejected. Sizes are checked against the remaining bytes before anything is allocated.
 *
 * @throws FormatError with the byte offset on malformed or truncated input
 */
export function readMat4(bytes: Uint8Array, file = 'mat file'): MatVariable[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const vars: MatVariable[] = [];
  let p = 0;
  while (p < bytes.length) {
    if (p + 20 > bytes.length) throw new FormatError(file, 'truncated variable header', p);
    let le = true;
    let type = dv.getInt32(p, true);
    if (type < 0 || type > 4052 || Math.floor(type / 1000) !== 0) {
      le = false;
      type = dv.getInt32(p, false);
    }
    if (type < 0 || type > 4052) throw new FormatError(file, `invalid type code ${type}`, p);
    const M = Math.floor(type / 1000);
    const O = Math.floor(type / 100) % 10;
    const P = Math.floor(type / 10) % 10;
    const T = type % 10;
    if (M !== (le ? 0 : 1) || O !== 0 || P > 5 || T > 2)
      throw new FormatError(file, `unsupported type code ${type} (MOPT)`, p);
    if (T === 2) throw new FormatError(file, 'sparse matrices are not supported', p);
    const rows = dv.getInt32(p + 4, le);
    const cols = dv.getInt32(p + 8, le);
    const imagf = dv.getInt32(p + 12, le);
    const namlen = dv.getInt32(p + 16, le);
    if (rows < 0 || cols < 0) throw new FormatError(file, `negative dimensions ${rows}×${cols}`, p + 4);
    if (imagf !== 0 && imagf !== 1) throw new FormatError(file, `bad imaginary flag ${imagf}`, p + 12);
    if (namlen < 1 || namlen > 4096) throw new FormatError(file, `bad name length ${namlen}`, p + 16);
    p += 20;
    if (p + namlen > bytes.length) throw new FormatError(file, 'truncated variable name', p);
    let name = '';
    for (let i = 0; i < namlen - 1; i++) name += String.fromCharCode(bytes[p + i]);
    if (bytes[p + namlen - 1] !== 0)
      throw new FormatError(file, 'variable name is not NUL-terminated', p + namlen - 1);
    p += namlen;
    const count = rows * cols;
    const size = ELEMENT_BYTES[P];
    const need = count * size * (imagf ? 2 : 1);
    if (!Number.isSafeInteger(need) || p + need > bytes.length)
      throw new FormatError(
        file,
        `variable '${name}' (${rows}×${cols}) needs ${need} bytes but ${bytes.length - p} remain`,
        p,
      );
    const readPart = (): Float64Array => {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        const q = p + i * size;
        switch (P) {
          case 0:
            out[i] = dv.getFloat64(q, le);
            break;
          case 1:
            out[i] = dv.getFloat32(q, le);
            break;
          case 2:
            out[i] = dv.getInt32(q, le);
            break;
          case 3:
            out[i] = dv.getInt16(q, le);
            break;
          case 4:
            out[i] = dv.getUint16(q, le);
            break;
          default:
            out[i] = bytes[q];
        }
      }
      p += count * size;
      return out;
    };
    const data = readPart();
    const imag = imagf ? readPart() : undefined;
    vars.push({ name, rows, cols, data, imag, isText: T === 1 });
  }
  return vars;
}

/**
 * Reads the named variable of a MATLAB v4 file as a Float32Array (row vector or column vector
 * or matrix, column-major).
 *
 * @throws FormatError if the variable is missing
 */
export function readMat4Variable(bytes: Uint8Array, name: string, file = 'mat file'): Float32Array {
  const v = readMat4(bytes, file).find((x) => x.name === name);
  if (!v) throw new FormatError(file, `no variable named '${name}'`);
  return Float32Array.from(v.data);
}
