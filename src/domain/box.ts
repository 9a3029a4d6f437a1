/**
 * Axis-aligned boxes — the domains of laaf problems — and their faces.
 *
 * A box has one named interval per input (time is just another input). A face
 * is where one input sits at its lower or upper bound; in d dimensions it is a
 * (d-1)-dimensional box, and for d = 1 it is a single point (measure 1 by
 * convention, so that the two end points share boundary points equally).
 */

export interface Box {
  names: string[];
  lo: number[];
  hi: number[];
}

/** The face where input `dim` equals `lo[dim]` ('lo') or `hi[dim]` ('hi'). */
export interface Face {
  dim: number;
  side: 'lo' | 'hi';
}

/** Throws unless the box is well formed: d >= 1, matching lengths, finite lo <= hi. */
export function checkBox(box: Box): void {
  const d = box.lo.length;
  if (d < 1) throw new Error('a box needs at least one input');
  if (box.hi.length !== d || box.names.length !== d) {
    throw new Error(`box has ${box.names.length} names, ${d} lower and ${box.hi.length} upper bounds`);
  }
  for (let i = 0; i < d; i++) {
    const lo = box.lo[i]!;
    const hi = box.hi[i]!;
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(lo <= hi)) {
      throw new Error(`box input '${box.names[i]}' has bad interval [${lo}, ${hi}]`);
    }
  }
}

/** All 2d faces, in the order (dim 0, lo), (dim 0, hi), (dim 1, lo), ... */
export function allFaces(box: Box): Face[] {
  const faces: Face[] = [];
  for (let dim = 0; dim < box.lo.length; dim++) {
    faces.push({ dim, side: 'lo' }, { dim, side: 'hi' });
  }
  return faces;
}

/** The fixed value of the face's input. */
export function faceValue(box: Box, f: Face): number {
  checkFace(box, f);
  return f.side === 'lo' ? box.lo[f.dim]! : box.hi[f.dim]!;
}

/** (d-1)-dimensional volume of the face: the product of the other side lengths; 1 for d = 1. */
export function faceMeasure(box: Box, f: Face): number {
  checkFace(box, f);
  let m = 1;
  for (let i = 0; i < box.lo.length; i++) {
    if (i !== f.dim) m *= box.hi[i]! - box.lo[i]!;
  }
  return m;
}

/** The box spanned by the face's free inputs (empty for d = 1). */
export function faceBox(box: Box, f: Face): Box {
  checkFace(box, f);
  const keep = (_: unknown, i: number) => i !== f.dim;
  return { names: box.names.filter(keep), lo: box.lo.filter(keep), hi: box.hi.filter(keep) };
}

function checkFace(box: Box, f: Face): void {
  if (!Number.isInteger(f.dim) || f.dim < 0 || f.dim >= box.lo.length) {
    throw new Error(`face dimension ${f.dim} outside a ${box.lo.length}-dimensional box`);
  }
  if (f.side !== 'lo' && f.side !== 'hi') throw new Error(`face side must be 'lo' or 'hi', got '${String(f.side)}'`);
}
