// Vite's CSS imports (bundled by the build); the only non-TypeScript modules the app imports.
declare module '*.css';
