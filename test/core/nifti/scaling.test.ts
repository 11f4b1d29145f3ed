/** scl_slope / scl_inter (nifti1.h DATA SCALING), with nibabel's reading of the edge cases. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyScaling,
  DataType,
  emptyHeader,
  type NiftiHeader,
  scaledValue,
  scalingOf,
} from '../../../src/core/nifti/index.ts';

const header = (datatype: number, sclSlope: number, sclInter: number): NiftiHeader => ({
  ...emptyHeader(1),
  datatype,
  sclSlope,
  sclInter,
});

test('scl_slope 0 or non-finite means no scaling; slope 1 / inter 0 is the identity; a bad intercept is 0', () => {
  assert.equal(scalingOf(header(DataType.INT16, 0, 100)), undefined);
  assert.equal(scalingOf(header(DataType.INT16, Number.NaN, 100)), undefined);
  assert.equal(scalingOf(header(DataType.INT16, Infinity, 0)), undefined);
  assert.equal(scalingOf(header(DataType.INT16, 1, 0)), undefined);
  assert.deepEqual(scalingOf(header(DataType.INT16, 1, -1024)), { slope: 1, inter: -1024 });
  assert.deepEqual(scalingOf(header(DataType.INT16, 2, Number.NaN)), { slope: 2, inter: 0 });
  assert.equal(scaledValue(header(DataType.INT16, 0, 100), 7), 7);
  assert.equal(scaledValue(header(DataType.INT16, 0.5, -1024), 3000), 476);
  assert.equal(scaledValue(header(DataType.INT64, 2, 1), 2n ** 40n), 2 ** 41 + 1);
});

test('applyScaling: float64 by default, float32 on request; RGB is never scaled; complex gets the intercept once', () => {
  const ct = { header: header(DataType.INT16, 1, -1024), data: Int16Array.from([0, 1024, 4095]) };
  assert.deepEqual(Array.from(applyScaling(ct)), [-1024, 0, 3071]);
  assert.ok(applyScaling(ct) instanceof Float64Array);
  const pet = { header: header(DataType.UINT16, 0.1, 0), data: Uint16Array.from([3, 10]) };
  const single = applyScaling(pet, { precision: 'float32' });
  assert.ok(single instanceof Float32Array);
  assert.deepEqual(Array.from(single), [Math.fround(0.1 * 3), Math.fround(1)]);
  const rgb = { header: header(DataType.RGB24, 2, 5), data: Uint8Array.from([1, 2, 3]) };
  assert.equal(scalingOf(rgb.header), undefined);
  assert.deepEqual(Array.from(applyScaling(rgb)), [1, 2, 3]);
  const complex = { header: header(DataType.COMPLEX64, 2, 10), data: Float32Array.from([1, 2, 3, 4]) };
  assert.deepEqual(Array.from(applyScaling(complex)), [12, 4, 16, 8]); // slope * z + inter, as nibabel
  const big = { header: header(DataType.UINT64, 1, 0.5), data: BigUint64Array.from([0n, 2n ** 53n]) };
  assert.deepEqual(Array.from(applyScaling(big)), [0.5, 2 ** 53]);
  const unscaled = { header: header(DataType.INT8, 0, 0), data: Int8Array.from([-128, 127]) };
  assert.deepEqual(Array.from(applyScaling(unscaled)), [-128, 127]);
});
