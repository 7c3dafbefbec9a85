/**
 * A small hand-written ONNX writer: the protobuf wire format (varints, length-delimited fields, fixed32) for the
 * subset of `onnx.proto` ecgnn needs (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
 * ValueInfoProto). No dependency on a protobuf library.
 *
 * NOTE: field numbers and enum values from onnx/onnx.proto (IR version 8): ModelProto.ir_version=1,
 * opset_import=8, producer_name=2, graph=7; OperatorSetIdProto.domain=1, version=2; GraphProto.node=1, name=2,
 * initializer=5, input=11, output=12; NodeProto.input=1, output=2, name=3, op_type=4, attribute=5;
 * AttributeProto.name=1, f=2, i=3, floats=7, ints=8, type=20 (FLOAT=1, INT=2, FLOATS=6, INTS=7);
 * TensorProto.dims=1, data_type=2 (FLOAT=1, INT64=7), name=8, raw_data=9 (little-endian); ValueInfoProto.name=1,
 * type=2; TypeProto.tensor_type=1; TypeProto.Tensor.elem_type=1, shape=2; TensorShapeProto.dim=1;
 * Dimension.dim_value=1, dim_param=2.
 */

/** Protobuf message writer (proto2/proto3 wire format). */
class Pb {
  readonly bytes: number[] = [];

  private varintRaw(v: number | bigint): void {
    // Negative int64 values are written as their 64-bit two's complement (10 bytes), as protobuf does.
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) b |= 0x80;
      this.bytes.push(b);
    } while (x !== 0n);
  }
  private tag(field: number, wire: number): void {
    this.varintRaw((field << 3) | wire);
  }
  varint(field: number, v: number): this {
    this.tag(field, 0);
    this.varintRaw(v);
    return this;
  }
  bytesField(field: number, data: Uint8Array | number[]): this {
    this.tag(field, 2);
    this.varintRaw(data.length);
    for (const b of data) this.bytes.push(b);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytesField(field, new TextEncoder().encode(s));
  }
  message(field: number, m: Pb): this {
    return this.bytesField(field, m.bytes);
  }
  float(field: number, v: number): this {
    this.tag(field, 5);
    for (const b of new Uint8Array(new Float32Array([v]).buffer)) this.bytes.push(b);
    return this;
  }
}

/** An attribute value: integer, float (`{ float }`), list of integers, or list of floats (`{ floats }`). */
export type OnnxAttribute = number | { float: number } | number[] | { floats: number[] };

/** One graph node. */
export interface OnnxNode {
  /** Operator type, e.g. `Conv`. */
  op: string;
  /** Input value names ('' for an omitted optional input). */
  inputs: string[];
  /** Output value names. */
  outputs: string[];
  /** Attributes by name. */
  attributes?: Record<string, OnnxAttribute>;
}

/** An initializer (constant tensor): float32 (default) or int64 (shapes, axes, pads). */
export interface OnnxInitializer {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

/** A graph input or output of type float32; a string dimension is symbolic (e.g. a dynamic batch `'N'`). */
export interface OnnxValue {
  name: string;
  dims: Array<number | string>;
}

/** A single-graph model. */
export interface OnnxModel {
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  /** Default-domain opset version (default 13). */
  opset?: number;
  /** Graph name (default 'ecgnn'). */
  name?: string;
}

function valueInfo(v: OnnxValue): Pb {
  const shape = new Pb();
  for (const d of v.dims)
    shape.message(1, typeof d === 'string' ? new Pb().string(2, d) : new Pb().varint(1, d));
  const tensorType = new Pb().varint(1, 1).message(2, shape);
  return new Pb().string(1, v.name).message(2, new Pb().message(1, tensorType));
}

function attribute(name: string, value: OnnxAttribute): Pb {
  const a = new Pb().string(1, name);
  if (Array.isArray(value)) {
    for (const v of value) a.varint(8, v);
    a.varint(20, 7);
  } else if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new RangeError(`ONNX attribute ${name}: ${value} is not an integer`);
    a.varint(3, value).varint(20, 2);
  } else if ('floats' in value) {
    for (const v of value.floats) a.float(7, v);
    a.varint(20, 6);
  } else {
    a.float(2, value.float).varint(20, 1);
  }
  return a;
}

/** Serialises `model` to ONNX protobuf bytes (IR version 8). */
export function writeOnnx(model: OnnxModel): Uint8Array {
  const graph = new Pb();
  model.nodes.forEach((n, idx) => {
    const node = new Pb();
    for (const i of n.inputs) node.string(1, i);
    for (const o of n.outputs) node.string(2, o);
    node.string(3, `${n.op.toLowerCase()}_${idx}`);
    node.string(4, n.op);
    for (const [name, value] of Object.entries(n.attributes ?? {})) node.message(5, attribute(name, value));
    graph.message(1, node);
  });
  graph.string(2, model.name ?? 'ecgnn');
  for (const init of model.initializers) {
    const t = new Pb();
    for (const d of init.dims) t.varint(1, d);
    const dtype = init.data instanceof BigInt64Array ? 7 : 1;
    t.varint(2, dtype).string(8, init.name);
    // raw_data is little-endian; typed arrays are in the platform's order, which is little-endian on every
    // platform Node and the browsers run on.
    t.bytesField(9, new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength));
    graph.message(5, t);
  }
  for (const i of model.inputs) graph.message(11, valueInfo(i));
  for (const o of model.outputs) graph.message(12, valueInfo(o));
  const m = new Pb()
    .varint(1, 8)
    .string(2, 'ecgnn')
    .message(8, new Pb().string(1, '').varint(2, model.opset ?? 13))
    .message(7, graph);
  return new Uint8Array(m.bytes);
}
