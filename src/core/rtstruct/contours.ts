/**
 * Mask slice -> closed contours, by marching squares over the pixel centres at the 0.5 level. Vertices are the
 * midpoints between an inside and an outside pixel centre, so every inside centre is strictly inside a contour and
 * every outside centre strictly outside: rasterising the contours back with the even-odd rule (rasterize.ts)
 * gives the same pixels. Saddle cells (two diagonal inside pixels) are cut apart, so contours never touch; holes
 * and islands come out as separate loops, which the even-odd rule reads back as holes and islands.
 */

/** Which pixels of a slice belong to the structure. Row r, column c; rows in DICOM order (not flipped). */
export type PixelTest = (c: number, r: number) => boolean;

/** A closed loop as flat [c0, r0, c1, r1, ...] in continuous pixel coordinates (DICOM rows), not repeated. */
export type Loop = number[];

export interface PixelBox {
  minC: number;
  maxC: number;
  minR: number;
  maxR: number;
}

/** Cell corners TL, TR, BR, BL and edge midpoints top, right, bottom, left, in cell units (x right, y down). */
const CORNERS: ReadonlyArray<readonly [number, number]> = [
  [0, 0],
  [1, 0],
  [1, 1],
  [0, 1],
];
const MIDPOINTS: ReadonlyArray<readonly [number, number]> = [
  [0.5, 0],
  [1, 0.5],
  [0.5, 1],
  [0, 0.5],
];
/** The two corners each edge joins (top: TL-TR, right: TR-BR, bottom: BR-BL, left: BL-TL). */
const EDGE_CORNERS: ReadonlyArray<readonly [number, number]> = [
  [0, 1],
  [1, 2],
  [2, 3],
  [3, 0],
];

/**
 * Oriented segments [from edge, to edge] of each of the 16 cases (bit 8 TL, 4 TR, 2 BR, 1 BL inside), oriented so
 * the inside lies on the same side of every segment (cross(to - from, inside - from) > 0): loops then chain
 * head to tail. Saddles (TL+BR, TR+BL) get one segment around each inside corner.
 */
const SEGMENTS: ReadonlyArray<ReadonlyArray<readonly [number, number]>> = Array.from({ length: 16 }, (_, index) => {
  const inside = [8, 4, 2, 1].map((bit) => (index & bit) !== 0);
  const boundary = [0, 1, 2, 3].filter((edge) => {
    const [a, b] = EDGE_CORNERS[edge]!;
    return inside[a] !== inside[b];
  });
  const orient = (e1: number, e2: number, reference: readonly [number, number]): [number, number] => {
    const [ax, ay] = MIDPOINTS[e1]!;
    const [bx, by] = MIDPOINTS[e2]!;
    const cross = (bx - ax) * (reference[1] - ay) - (by - ay) * (reference[0] - ax);
    return cross > 0 ? [e1, e2] : [e2, e1];
  };
  if (boundary.length === 2) {
    const corners = CORNERS.filter((_, corner) => inside[corner]);
    const centroid: [number, number] = [
      corners.reduce((sum, c) => sum + c[0], 0) / corners.length,
      corners.reduce((sum, c) => sum + c[1], 0) / corners.length,
    ];
    return [orient(boundary[0]!, boundary[1]!, centroid)];
  }
  if (boundary.length === 4) {
    // Saddle: cut each inside corner off with the two edges that meet at it.
    return CORNERS.flatMap((corner, i) => {
      if (!inside[i]) return [];
      const meeting = [0, 1, 2, 3].filter((edge) => EDGE_CORNERS[edge]!.includes(i));
      return [orient(meeting[0]!, meeting[1]!, corner)];
    });
  }
  return [];
});

/**
 * Edges of the cell grid: cell (x, y) has corners (x, y) TL, (x+1, y) TR, (x+1, y+1) BR, (x, y+1) BL, for
 * x in minC-1..maxC and y in minR-1..maxR (a ring of outside cells closes every loop). Edge midpoints are keyed
 * as 2 * index(corner) + (0 for the edge to the right neighbour, 1 for the edge to the lower neighbour).
 */
export function traceLoops(inside: PixelTest, box: PixelBox): Loop[] {
  const x0 = box.minC - 1;
  const y0 = box.minR - 1;
  const width = box.maxC - box.minC + 3;
  const height = box.maxR - box.minR + 3;
  const at = (c: number, r: number): boolean =>
    c >= box.minC && c <= box.maxC && r >= box.minR && r <= box.maxR && inside(c, r);
  const key = (c: number, r: number, down: 0 | 1) => 2 * ((r - y0) * width + (c - x0)) + down;
  const point = (k: number): [number, number] => {
    const down = k & 1;
    const index = k >> 1;
    const c = (index % width) + x0;
    const r = Math.floor(index / width) + y0;
    return down ? [c, r + 0.5] : [c + 0.5, r];
  };
  // next[start] = end of the oriented segment starting at midpoint `start`.
  const next = new Map<number, number>();
  for (let y = y0; y < y0 + height - 1; y++) {
    for (let x = x0; x < x0 + width - 1; x++) {
      const tl = at(x, y);
      const tr = at(x + 1, y);
      const br = at(x + 1, y + 1);
      const bl = at(x, y + 1);
      const index = (tl ? 8 : 0) | (tr ? 4 : 0) | (br ? 2 : 0) | (bl ? 1 : 0);
      if (index === 0 || index === 15) continue;
      const edges = [key(x, y, 0), key(x + 1, y, 1), key(x, y + 1, 0), key(x, y, 1)];
      for (const [from, to] of SEGMENTS[index]!) next.set(edges[from]!, edges[to]!);
    }
  }
  const loops: Loop[] = [];
  for (const start of next.keys()) {
    if (!next.has(start)) continue;
    const loop: Loop = [];
    let current = start;
    for (;;) {
      const to = next.get(current);
      if (to === undefined) break;
      next.delete(current);
      const [c, r] = point(current);
      loop.push(c, r);
      current = to;
      if (current === start) break;
    }
    loops.push(simplify(loop));
  }
  return loops;
}

/** Drop vertices that lie on the straight line between their neighbours (runs along a row, column or diagonal). */
function simplify(loop: Loop): Loop {
  const n = loop.length / 2;
  if (n <= 3) return loop;
  const out: Loop = [];
  for (let i = 0; i < n; i++) {
    const p = (i + n - 1) % n;
    const q = (i + 1) % n;
    const ax = loop[2 * i]! - loop[2 * p]!;
    const ay = loop[2 * i + 1]! - loop[2 * p + 1]!;
    const bx = loop[2 * q]! - loop[2 * i]!;
    const by = loop[2 * q + 1]! - loop[2 * i + 1]!;
    // Collinear and same direction: the vertex adds nothing.
    if (Math.abs(ax * by - ay * bx) < 1e-9 && ax * bx + ay * by > 0) continue;
    out.push(loop[2 * i]!, loop[2 * i + 1]!);
  }
  return out;
}
