/**
 * The kernel's memory contract is named on both sides: src/kernel/layout.ts (TypeScript)
 * and the constants of assembly/kernel.ts (AssemblyScript). This test reads the
 * AssemblyScript source as text and fails when a constant is missing on either side or
 * its number differs; activation ids must be the indices of the one vocabulary list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACTIVATIONS } from '../src/base/activations.js';
import { ACTIVATIONS as SPEC_ACTIVATIONS } from '../src/spec/schema.js';
import { BASE_ACTIVATIONS } from '../src/nn/activations.js';
import { KERNEL_ACTIVATIONS } from '../src/kernel/fused.js';
import {
  activationId, CHUNK, CMD, DEEP, DEEP_CMD, LAYER, LAYER_SLOTS, MIX, NET, TERM, WORK, WORK_LAYER, WORK_LAYER_SLOTS,
} from '../src/kernel/layout.js';
import { repoRoot } from './helpers.js';

/** `const NAME: i32 = 12;` and `const NAME = 12;` at the top level of assembly/kernel.ts. */
function assemblyConstants(): Map<string, number> {
  const text = readFileSync(join(repoRoot(), 'assembly', 'kernel.ts'), 'utf8');
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^const ([A-Z][A-Z0-9_]*)(?:: i32)? = (\d+);/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

/** The TypeScript side, under the AssemblyScript names. */
function typescriptConstants(): Map<string, number> {
  const out = new Map<string, number>();
  const group = (prefix: string, o: Record<string, number>) => {
    for (const [k, v] of Object.entries(o)) out.set(`${prefix}${k}`, v);
  };
  group('N_', NET);
  group('L_', LAYER);
  group('W_', WORK);
  group('WL_', WORK_LAYER);
  group('T_', TERM);
  group('CH_', CHUNK);
  group('MIX_', MIX);
  group('CMD_', CMD);
  out.set('NLS', LAYER_SLOTS);
  out.set('LS', WORK_LAYER_SLOTS);
  for (const a of ACTIVATIONS) out.set(`ACT_${a.toUpperCase()}`, activationId(a));
  return out;
}

test('kernel layout: every descriptor slot, record field, kind, command and activation id is the same number on both sides', () => {
  const as = assemblyConstants();
  const ts = typescriptConstants();
  const contract = [...as.keys()].filter((k) => /^(N_|L_|W_|WL_|T_|CH_|MIX_|CMD_|ACT_)/.test(k) || k === 'NLS' || k === 'LS');
  assert.ok(contract.length >= 60, `found ${contract.length} layout constants in assembly/kernel.ts`);
  for (const k of contract) assert.equal(ts.get(k), as.get(k), `${k}: assembly/kernel.ts says ${as.get(k)}, src/kernel/layout.ts ${ts.get(k)}`);
  for (const [k, v] of ts) assert.equal(as.get(k), v, `${k} = ${v} in src/kernel/layout.ts is not in assembly/kernel.ts`);
});

test('kernel layout: the data-set kernels\' descriptor slots and commands are the same numbers in assembly/deep.ts and src/kernel/layout.ts', () => {
  const text = readFileSync(join(repoRoot(), 'assembly', 'deep.ts'), 'utf8');
  const as = new Map<string, number>();
  for (const m of text.matchAll(/\b((?:D|DEEP)_[A-Z0-9_]+): i32 = (\d+)/g)) as.set(m[1]!, Number(m[2]));
  const ts = new Map<string, number>();
  for (const [k, v] of Object.entries(DEEP)) if (k !== 'SLOTS') ts.set(`D_${k}`, v);
  for (const [k, v] of Object.entries(DEEP_CMD)) ts.set(`DEEP_${k}`, v);
  assert.ok(as.size >= 25, `found ${as.size} constants in assembly/deep.ts`);
  for (const [k, v] of as) assert.equal(ts.get(k), v, `${k}: assembly/deep.ts says ${v}, src/kernel/layout.ts ${ts.get(k)}`);
  for (const [k, v] of ts) assert.equal(as.get(k), v, `${k} = ${v} in src/kernel/layout.ts is not in assembly/deep.ts`);
  assert.ok(Math.max(...Object.values(DEEP).filter((v) => v !== DEEP.SLOTS)) < DEEP.SLOTS);
});

test('kernel layout: record strides in assembly/kernel.ts match the record sizes', () => {
  const text = readFileSync(join(repoRoot(), 'assembly', 'kernel.ts'), 'utf8');
  // term records and chunk entries are addressed by shifts: 1 << 5 bytes = TERM.SLOTS i32, 1 << 4 = CHUNK.SLOTS i32
  assert.equal(4 * TERM.SLOTS, 1 << 5);
  assert.equal(4 * CHUNK.SLOTS, 1 << 4);
  assert.equal([...text.matchAll(/terms \+ \(<usize>k << 5\)/g)].length, 3);
  assert.match(text, /chunks \+ \(<usize>k << 4\)/);
});

test('activations: one vocabulary list for the spec, the towers and the kernel', () => {
  assert.deepEqual([...SPEC_ACTIVATIONS], [...ACTIVATIONS]);
  assert.deepEqual([...BASE_ACTIVATIONS], [...ACTIVATIONS]);
  assert.deepEqual([...KERNEL_ACTIVATIONS], [...ACTIVATIONS]);
  ACTIVATIONS.forEach((a, i) => assert.equal(activationId(a), i));
});
