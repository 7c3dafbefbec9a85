// Vitest setup file: runs a test project with the backend named by ECGNN_TEST_BACKEND active, so the same
// op suite that checks the CPU reference also checks every other backend (kernels it lacks fall back to CPU).
import { findBackend, setBackend } from '@ecgnn/core';

const name = process.env.ECGNN_TEST_BACKEND;
if (name) {
  if (findBackend(name) === null) {
    throw new Error(`ECGNN_TEST_BACKEND=${name}: that backend is not available on this platform`);
  }
  setBackend(name);
}
