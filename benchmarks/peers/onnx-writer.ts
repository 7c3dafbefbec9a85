/**
 * A small hand-written ONNX writer: protobuf wire format (varints, length-delimited fields,
 * fixed32) for the subset of `onnx.proto` we need (ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto, ValueInfoProto). It becomes ecgnn's ONNX export path later.
 *
 * NOTE: field numbers and enum values from onnx/onnx.proto (IR version 8): ModelProto.ir_version=1,
 * opset_import=8, producer_name=2, graph=7; GraphProto.node=1, name=2, initializer=5, input=11,
 * output=12; NodeProto.input=1, output=2, name=3, op_type=4, attribute=5; AttributeProto.name=1,
 * f=2, i=3, ints=8, type=20 (FLOAT=1, INT=2, INTS=7); TensorProto.dims=1, data_type=2 (FLOAT=1),
 * name=8, raw_data=9; ValueInfoProto.name=1, type=2; TypeProto.tensor_type=1;
 * TypeProto.Tensor.elem_type=1, shape=2; TensorShapeProto.dim=1; Dimension.dim_value=1.
 */

/** Protobuf message writer (proto2/proto3 wire format). */
class Pb {
  readonly bytes: number[] = [];

  private varintRaw(v: number | bigint): void {
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

/** An attribute value: integer, float or list of integers. */
export type OnnxAttribute = number | { float: number } | number[];

/** One graph node. */
export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, OnnxAttribute>;
}

/** A float32 initializer (weight). */
export interface OnnxInitializer {
  name: string;
  dims: number[];
  data: Float32Array;
}

/** A graph input or output of type float32 with a static shape. */
export interface OnnxValue {
  name: string;
  dims: number[];
}

/** A single-graph model. */
export interface OnnxModel {
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  opset?: number;
}

function valueInfo(v: OnnxValue): Pb {
  const shape = new Pb();
  for (const d of v.dims) shape.message(1, new Pb().varint(1, d));
  const tensorType = new Pb().varint(1, 1).message(2, shape);
  return new Pb().string(1, v.name).message(2, new Pb().message(1, tensorType));
}

/** Serialises `model` to ONNX protobuf bytes. */
export function writeOnnx(model: OnnxModel): Uint8Array {
  const graph = new Pb();
  model.nodes.forEach((n, idx) => {
    const node = new Pb();
    for (const i of n.inputs) node.string(1, i);
    for (const o of n.outputs) node.string(2, o);
    node.string(3, `${n.op.toLowerCase()}_${idx}`);
    node.string(4, n.op);
    for (const [name, value] of Object.entries(n.attributes ?? {})) {
      const a = new Pb().string(1, name);
      if (Array.isArray(value)) {
        for (const v of value) a.varint(8, v);
        a.varint(20, 7);
      } else if (typeof value === 'number') {
        a.varint(3, value).varint(20, 2);
      } else {
        a.float(2, value.float).varint(20, 1);
      }
      node.message(5, a);
    }
    graph.message(1, node);
  });
  graph.string(2, 'ecgnn');
  for (const init of model.initializers) {
    const t = new Pb();
    for (const d of init.dims) t.varint(1, d);
    t.varint(2, 1).string(8, init.name);
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
