export * from './affine.ts';
export * from './display.ts';
export * from './grid.ts';
export * from './orientation.ts';
export * from './stack.ts';
