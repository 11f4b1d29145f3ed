import { lazy, Suspense } from 'react';
import { StudiesPage } from './pages/Studies.tsx';
import { href, useRoute } from './router.ts';

// The upload page is loaded on demand: the viewer route does not pay for it.
const UploadPage = lazy(async () => ({ default: (await import('./pages/Upload.tsx')).UploadPage }));
const ViewerPage = lazy(async () => ({ default: (await import('./pages/Viewer.tsx')).ViewerPage }));

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
