import { Generator, Module, nn, Parameter, randn, type Tensor, tensor, zeros } from '@ecgnn/core';
import { describe, expect, test } from 'vitest';

class Affine extends Module {
  declare readonly scale: Tensor;
  declare readonly shift: Tensor | null;
  declare readonly count: Tensor;
  declare readonly scratch: Tensor;
  constructor(n: number) {
    super();
    this.registerParameter('scale', new Parameter(tensor(Array.from({ length: n }, (_, i) => i + 1))));
    this.registerParameter('shift', new Parameter(zeros([n])));
    this.registerBuffer('count', zeros([1]));
    this.registerBuffer('scratch', zeros([n]), { persistent: false });
  }
  forward(x: Tensor): Tensor {
    this.count.data[0] += 1;
    return x.mul(this.scale).add(this.shift!);
  }
}

class Net extends Module {
  declare readonly a: Affine;
  declare readonly b: nn.Sequential;
  constructor() {
    super();
    this.registerModule('a', new Affine(3));
    this.registerModule(
      'b',
      new nn.Sequential(new nn.Linear(3, 2, { generator: new Generator(1) }), new nn.ReLU()),
    );
  }
  forward(x: Tensor): Tensor {
    return this.b.call(this.a.call(x));
  }
}

describe('Module registration and traversal', () => {
  test('parameters, buffers, children and modules with dotted names', () => {
    const net = new Net();
    expect([...net.namedParameters()].map(([n]) => n)).toEqual([
      'a.scale',
      'a.shift',
      'b.0.weight',
      'b.0.bias',
    ]);
    expect(net.parameters()).toHaveLength(4);
    expect([...net.namedBuffers()].map(([n]) => n)).toEqual(['a.count', 'a.scratch']);
    expect(net.buffers()).toHaveLength(2);
    expect([...net.namedChildren()].map(([n]) => n)).toEqual(['a', 'b']);
    expect([...net.namedModules()].map(([n]) => n)).toEqual(['', 'a', 'b', 'b.0', 'b.1']);
    expect(net.numParameters()).toBe(3 + 3 + 6 + 2);
    expect([...net.namedParameters({ recurse: false })]).toEqual([]);
    // Registration defines properties reading the registry.
    expect(net.a.scale).toBe(net.a.getParameter('scale'));
    expect(net.a.scale.requiresGrad).toBe(true);
  });

  test('assigning a registered member re-registers it', () => {
    const a = new Affine(2);
    const p = new Parameter(tensor([5, 6]));
    (a as unknown as { scale: Parameter }).scale = p;
    expect(a.getParameter('scale')).toBe(p);
    expect(a.parameters()[0]).toBe(p);
  });

  test('registering a null parameter reserves the name but lists nothing', () => {
    const l = new nn.Linear(2, 2, { bias: false });
    expect(l.bias).toBeNull();
    expect([...l.namedParameters()].map(([n]) => n)).toEqual(['weight']);
  });

  test('bad registrations are rejected with clear errors', () => {
    const a = new Affine(2);
    expect(() => a.registerParameter('x.y', new Parameter(zeros([1])))).toThrow(/invalid name 'x.y'/);
    expect(() => a.registerBuffer('scale', zeros([1]))).toThrow(/already registered as another kind/);
    expect(() => a.registerParameter('forward', new Parameter(zeros([1])))).toThrow(
      /would shadow a method or property of Affine/,
    );
    expect(() => new nn.Linear(2, 2).registerBuffer('inFeatures', zeros([1]))).toThrow(
      /already a field of Linear/,
    );
    expect(() => a.registerParameter('w', zeros([1]) as unknown as Parameter)).toThrow(/must be a Parameter/);
  });

  test('shared parameters are listed once', () => {
    const l = new nn.Linear(2, 2);
    const s = new nn.Sequential(l, new nn.ReLU(), l);
    expect(s.parameters()).toHaveLength(2);
    expect(s.numParameters()).toBe(6);
    // A shared module is saved once, under its first path.
    expect(Object.keys(s.stateDict())).toEqual(['0.weight', '0.bias']);
    s.loadStateDict(s.stateDict());
  });

  test('train/eval recurse through children; no global flag', () => {
    const net = new Net();
    const other = new nn.Dropout(0.5);
    net.eval();
    expect([...net.modules()].every((m) => m.training === false)).toBe(true);
    expect(other.training).toBe(true);
    net.b.train();
    expect(net.training).toBe(false);
    expect(net.b.at(0).training).toBe(true);
  });

  test('zeroGrad, requiresGrad_ and apply', () => {
    const net = new Net();
    net
      .call(randn([4, 3]))
      .sum()
      .backward();
    expect(net.parameters().every((p) => p.grad !== null)).toBe(true);
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
    net.requiresGrad_(false);
    expect(net.numParameters({ trainableOnly: true })).toBe(0);
    const visited: string[] = [];
    net.apply((m) => visited.push(m.constructor.name));
    expect(visited).toEqual(['Affine', 'Linear', 'ReLU', 'Sequential', 'Net']);
  });

  test('hooks run in call() and can be removed', () => {
    const a = new Affine(2);
    const seen: number[] = [];
    const h1 = a.registerForwardPreHook((_m, [x]) => [x.mul(2)]);
    const h2 = a.registerForwardHook((_m, _in, out) => {
      seen.push(out.data[0]);
      return undefined;
    });
    const y = a.call(tensor([1, 1]));
    expect(Array.from(y.data)).toEqual([2, 4]);
    expect(seen).toEqual([2]);
    h1.remove();
    h2.remove();
    expect(Array.from(a.call(tensor([1, 1])).data)).toEqual([1, 2]);
    expect(seen).toEqual([2]);
  });

  test('toString prints a tree with output shapes and parameter counts', () => {
    const net = new Net();
    net.call(randn([5, 3]));
    const s = net.toString();
    expect(s).toContain('Net(  # out [5, 2], 14 params');
    expect(s).toContain('  (a): Affine()  # out [5, 3], 6 params');
    expect(s).toContain('    (0): Linear(inFeatures=3, outFeatures=2, bias=true)  # out [5, 2], 8 params');
    expect(s).toContain('    (1): ReLU()  # out [5, 2], 0 params');
    expect(s.trim().split('\n').at(-1)).toBe('Total: 14 parameters (14 trainable)');
  });

  test('to(float64) converts parameters and buffers, keeping sharing and constraints', () => {
    const b = new nn.BinaryLinear(3, 2);
    const l = new nn.Linear(2, 2);
    const s = new nn.Sequential(b, l, l);
    s.to('float64');
    expect(s.parameters().every((p) => p.dtype === 'float64')).toBe(true);
    expect(s.parameters()).toHaveLength(3);
    expect(b.getParameter('weight')!.constraint?.name).toBe('clip(-1, 1)');
    expect(s.call(randn([1, 3], { dtype: 'float64' })).dtype).toBe('float64');
  });
});

describe('state dicts', () => {
  test('stateDict holds parameters and persistent buffers as copies, with versions in _metadata', () => {
    const net = new Net();
    const sd = net.stateDict();
    expect(Object.keys(sd)).toEqual(['a.scale', 'a.shift', 'a.count', 'b.0.weight', 'b.0.bias']);
    expect(sd['a.scale']).not.toBe(net.a.scale);
    net.a.scale.data[0] = 99;
    expect(sd['a.scale'].data[0]).toBe(1);
    expect(nn.stateDictMetadata(sd)).toEqual({
      '': { version: 1 },
      a: { version: 1 },
      b: { version: 1 },
      'b.0': { version: 1 },
      'b.1': { version: 1 },
    });
  });

  test('round trip gives bit-identical outputs and keeps parameter identity', () => {
    const m1 = new nn.Sequential(
      new nn.Conv1d(2, 4, 3, { padding: 1, generator: new Generator(1) }),
      new nn.BatchNorm1d(4),
      new nn.PReLU({ numParameters: 4 }),
      new nn.Flatten(),
      new nn.Linear(4 * 6, 3, { generator: new Generator(2) }),
    );
    const x = randn([5, 2, 6], { generator: new Generator(3) });
    m1.call(x); // updates running statistics
    m1.eval();
    const sd = m1.stateDict();
    const m2 = new nn.Sequential(
      new nn.Conv1d(2, 4, 3, { padding: 1, generator: new Generator(10) }),
      new nn.BatchNorm1d(4),
      new nn.PReLU({ numParameters: 4 }),
      new nn.Flatten(),
      new nn.Linear(4 * 6, 3, { generator: new Generator(20) }),
    ).eval();
    const before = m2.parameters();
    expect(Array.from(m2.call(x).data)).not.toEqual(Array.from(m1.call(x).data));
    const r = m2.loadStateDict(sd);
    expect(r).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(m2.parameters()).toEqual(before);
    expect(m2.parameters().every((p, i) => p === before[i])).toBe(true);
    const y1 = m1.call(x);
    const y2 = m2.call(x);
    expect(Buffer.from(y2.data.buffer).equals(Buffer.from(y1.data.buffer))).toBe(true);
  });

  test('missing and unexpected keys: reported, and rejected in strict mode without copying', () => {
    const a = new nn.Linear(2, 2);
    const sd = a.stateDict();
    delete sd.bias;
    sd.extra = zeros([1]);
    const w0 = Array.from(a.weight.data);
    const other = new nn.Linear(2, 2);
    expect(() => other.loadStateDict(sd)).toThrow(nn.StateDictError);
    expect(() => other.loadStateDict(sd)).toThrow(/missing keys 'bias'; unexpected keys 'extra'/);
    expect(Array.from(other.weight.data)).not.toEqual(w0);
    const r = other.loadStateDict(sd, { strict: false });
    expect(r).toEqual({ missingKeys: ['bias'], unexpectedKeys: ['extra'] });
    expect(Array.from(other.weight.data)).toEqual(w0);
  });

  test('shape mismatch names the key and both shapes', () => {
    const sd = new nn.Linear(4, 2).stateDict();
    const m = new nn.Sequential(new nn.Linear(3, 2));
    expect(() => m.loadStateDict({ '0.weight': sd.weight, '0.bias': sd.bias })).toThrow(
      "shape mismatch for '0.weight': checkpoint has [2, 4], model has [2, 3]",
    );
    expect(() => m.loadStateDict({ '0.weight': sd.weight, '0.bias': sd.bias }, { strict: false })).toThrow(
      nn.StateDictError,
    );
  });

  test('versions: migrateStateDict runs for older checkpoints; newer ones are rejected', () => {
    // Version 1 stored 'gain'; version 2 renamed it 'scale' and migrates old checkpoints.
    class V1 extends Module {
      static override version = 1;
      constructor() {
        super();
        this.registerParameter('gain', new Parameter(tensor([3, 4])));
      }
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    class V2 extends Module {
      static override version = 2;
      declare readonly scale: Tensor;
      calls: number[] = [];
      constructor() {
        super();
        this.registerParameter('scale', new Parameter(zeros([2])));
      }
      override migrateStateDict(sd: nn.StateDict, prefix: string, saved: number): void {
        super.migrateStateDict(sd, prefix, saved);
        this.calls.push(saved);
        if (saved < 2) {
          sd[`${prefix}scale`] = sd[`${prefix}gain`];
          delete sd[`${prefix}gain`];
        }
      }
      forward(x: Tensor): Tensor {
        return x.mul(this.scale);
      }
    }
    const old = new nn.Sequential(new V1()).stateDict();
    const v2 = new V2();
    const holder = new nn.Sequential(v2);
    holder.loadStateDict(old);
    expect(v2.calls).toEqual([1]);
    expect(Array.from(v2.scale.data)).toEqual([3, 4]);
    // Same version: no migration.
    holder.loadStateDict(holder.stateDict());
    expect(v2.calls).toEqual([1]);
    // Metadata as an ordinary key (e.g. rebuilt from JSON) is read, not taken for a tensor.
    const plain = { ...holder.stateDict(), _metadata: { '0': { version: 2 } } } as unknown as nn.StateDict;
    plain['0.scale'] = tensor([7, 8]);
    holder.loadStateDict(plain);
    expect(v2.calls).toEqual([1]);
    expect(Array.from(v2.scale.data)).toEqual([7, 8]);
    const oldPlain = {
      '0.gain': tensor([5, 6]),
      _metadata: { '0': { version: 1 } },
    } as unknown as nn.StateDict;
    holder.loadStateDict(oldPlain);
    expect(v2.calls).toEqual([1, 1]);
    expect(Array.from(v2.scale.data)).toEqual([5, 6]);
    // A checkpoint from the future is refused.
    const future = nn.setStateDictMetadata({ '0.scale': zeros([2]) }, { '0': { version: 3 } });
    expect(() => holder.loadStateDict(future)).toThrow(
      /saved by state-dict version 3, newer than this code's version 2/,
    );
  });

  test('functionalCall substitutes tensors and restores the module afterwards', () => {
    const l = new nn.Linear(2, 1, { bias: false });
    const w = l.weight;
    const y = nn.functionalCall(l, { weight: tensor([[1, 10]]) }, tensor([[2, 3]]));
    expect(Array.from(y.data)).toEqual([32]);
    expect(l.weight).toBe(w);
    expect(() => nn.functionalCall(l, { 'nope.weight': w }, tensor([[2, 3]]))).toThrow(/no module owns/);
    expect(l.weight).toBe(w);
  });
});
