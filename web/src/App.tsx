import { lazy, Suspense } from 'react';
import { StudiesPage } from './pages/Studies.tsx';
import { ViewerPage } from './pages/Viewer.tsx';
import { href, useRoute } from './router.ts';

// The upload page is loaded on demand: the viewer route does not pay for it. The viewer is in the entry chunk
// (no second round trip before the first slice).
const UploadPage = lazy(async () => ({ default: (await import('./pages/Upload.tsx')).UploadPage }));

export function App() {
  const route = useRoute();
  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href={href.studies()}>
          medvox
        </a>
        <nav>
          <a href={href.studies()} aria-current={route.page === 'studies' ? 'page' : undefined}>
            Studies
          </a>
          <a href={href.upload()} aria-current={route.page === 'upload' ? 'page' : undefined}>
            Upload
          </a>
        </nav>
      </header>
      <main className="content">
        <Suspense fallback={<p className="state">Loading…</p>}>
          {route.page === 'studies' && <StudiesPage />}
          {route.page === 'upload' && <UploadPage />}
          {route.page === 'viewer' && route.study && (
            <ViewerPage key={route.study} study={route.study} series={route.params.get('series') ?? undefined} />
          )}
        </Suspense>
      </main>
    </div>
  );
}
