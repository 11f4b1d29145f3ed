/**
 * Voxels over HTTP: one byte range for the slice shown first (drawn at once), then the whole volume streamed into
 * one preallocated buffer with progress. Typed arrays are views of that buffer, never copies.
 */
import { ApiError, errorFrom } from '../api.ts';
import { BYTES, type VolumeHeader, type VoxelArray, voxelArray } from './volume.ts';

/** Voxels of axial-order slice k (a contiguous run of the volume: k is the slowest axis). */
export async function fetchSliceRange(header: VolumeHeader, k: number, signal?: AbortSignal): Promise<VoxelArray> {
  const bytes = header.dims[0] * header.dims[1] * BYTES[header.datatype];
  const start = k * bytes;
  const response = await fetch(`/api/volumes/${encodeURIComponent(header.id)}/data`, {
    headers: { Range: `bytes=${start}-${start + bytes - 1}` },
    signal,
  });
  if (!response.ok) throw await errorFrom(response);
  const buffer = await response.arrayBuffer();
  if (response.status === 206) return voxelArray(header.datatype, buffer);
  return voxelArray(header.datatype, buffer, start, bytes / BYTES[header.datatype]);
}

export async function fetchVolume(
  header: VolumeHeader,
  onProgress?: (received: number, total: number) => void,
  signal?: AbortSignal,
): Promise<VoxelArray> {
  let response: Response;
  try {
    response = await fetch(`/api/volumes/${encodeURIComponent(header.id)}/data`, { signal });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError('cannot reach the medvox server', 0, 'NETWORK');
  }
  if (!response.ok || !response.body) throw await errorFrom(response);
  const total = header.byteLength;
  const buffer = new ArrayBuffer(total);
  const target = new Uint8Array(buffer);
  const reader = response.body.getReader();
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (received + value.byteLength > total) throw new ApiError('the server sent more voxels than announced', 0);
    target.set(value, received);
    received += value.byteLength;
    onProgress?.(received, total);
  }
  if (received !== total) throw new ApiError(`the volume arrived incomplete (${received} of ${total} bytes)`, 0);
  return voxelArray(header.datatype, buffer, 0, total / BYTES[header.datatype]);
}
