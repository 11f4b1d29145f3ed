/**
 * The WASM decoders (cornerstone codecs), each initialised once on first use. Decoded pixels are copied out of
 * WASM memory before the decoder is freed. openjph returns the previous image instead of failing on bad input,
 * so every decode checks the frame info against the header attributes.
 */
import { MedvoxError } from '../errors.ts';

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getInterleaveMode?(): number;
  decode(): void;
  getFrameInfo(): FrameInfo;
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}
type DecoderModule = Record<string, new () => WasmDecoder>;
type Factory = (options?: object) => Promise<DecoderModule>;

export type WasmCodec = 'j2k' | 'htj2k' | 'jpegls' | 'jpeg8';

const loaders: Record<WasmCodec, { load: () => Promise<Factory>; className: string }> = {
  j2k: {
    load: async () => (await import('@cornerstonejs/codec-openjpeg/decodewasmjs')).default as Factory,
    className: 'J2KDecoder',
  },
  htj2k: {
    load: async () => (await import('@cornerstonejs/codec-openjph/wasmjs')).default as Factory,
    className: 'HTJ2KDecoder',
  },
  jpegls: {
    load: async () => (await import('@cornerstonejs/codec-charls/decodewasmjs')).default as Factory,
    className: 'JpegLSDecoder',
  },
  jpeg8: {
    load: async () => (await import('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs')).default as Factory,
    className: 'JPEGDecoder',
  },
};

const modules = new Map<WasmCodec, Promise<DecoderModule>>();

function moduleFor(codec: WasmCodec): Promise<DecoderModule> {
  let module = modules.get(codec);
  if (!module) {
    // Emscripten prints decoder chatter (openjpeg's [INFO] lines) unless print/printErr are replaced.
    module = loaders[codec].load().then((factory) => factory({ print: () => {}, printErr: () => {} }));
    modules.set(codec, module);
  }
  return module;
}

export interface WasmDecoded {
  bytes: Uint8Array;
  info: FrameInfo;
  /** True when the samples come plane by plane rather than interleaved. */
  planar: boolean;
}

export async function decodeWasm(codec: WasmCodec, encoded: Uint8Array): Promise<WasmDecoded> {
  const module = await moduleFor(codec);
  const Decoder = module[loaders[codec].className];
  if (!Decoder) throw new MedvoxError('INTERNAL', `codec ${codec} has no ${loaders[codec].className}`);
  const decoder = new Decoder();
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    decoder.decode();
    const info = decoder.getFrameInfo();
    // JPEG-LS interleave mode 0 (ILV=none) decodes component by component: planar output.
    const planar = codec === 'jpegls' && info.componentCount > 1 && decoder.getInterleaveMode?.() === 0;
    return { bytes: decoder.getDecodedBuffer().slice(), info: { ...info }, planar };
  } catch (error) {
    const message =
      typeof error === 'number' ? `codec error ${error}` : error instanceof Error ? error.message : String(error);
    throw new MedvoxError('DECODE_FAILED', `${codec} decoder failed: ${message}`, { cause: error });
  } finally {
    decoder.delete();
  }
}
