/**
 * Hash routes (#/studies, #/upload, #/viewer/<study>?series=<uid>): the server's own paths (/api, /studies of the
 * original app's API, /dicom-web) stay untouched, and any page can be reloaded without a server-side fallback.
 */
import { useEffect, useState } from 'react';

export interface Route {
  page: 'studies' | 'upload' | 'viewer';
  study?: string;
  params: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  if (parts[0] === 'upload') return { page: 'upload', params };
  if (parts[0] === 'viewer' && parts[1]) return { page: 'viewer', study: parts[1], params };
  return { page: 'studies', params };
}

export function useRoute(): Route {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const onChange = (): void => setHash(window.location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return parseRoute(hash);
}

export const href = {
  studies: (): string => '#/studies',
  upload: (): string => '#/upload',
  viewer: (study: string, series?: string): string =>
    `#/viewer/${encodeURIComponent(study)}${series ? `?series=${encodeURIComponent(series)}` : ''}`,
};
