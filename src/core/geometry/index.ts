export * from './affine.ts';
export * from './grid.ts';
export * from './orientation.ts';
export * from './stack.ts';
