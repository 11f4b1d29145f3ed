export * from './affine.ts';
export * from './orientation.ts';
export * from './stack.ts';
