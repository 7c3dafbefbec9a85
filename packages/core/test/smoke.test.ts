import * as core from '@ecgnn/core';
import { expect, test } from 'vitest';

test('core loads', () => {
  expect(typeof core).toBe('object');
});
