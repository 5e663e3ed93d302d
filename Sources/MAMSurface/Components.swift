public import MAMCore

/// Connected parts of masks and enclosed holes.
public enum Components {
    /// The 26-connected components of `mask` (voxels sharing a face, an edge or a corner
    /// belong together), largest first, each as a crop of the mask's grid: the component's
    /// bounding box grown by `margin` voxels (clipped to the grid), holding only that component.
    public static func connected26(_ whole: Mask, margin: Int) -> [Mask] {
        connected26(whole, margin: margin, minimumVoxels: 1).parts
    }

    /// `connected26(_:margin:)` without the components of fewer than `minimumVoxels` voxels
    /// (specks), whose voxel counts are returned (largest first); one labelling pass for both.
    public static func connected26(_ whole: Mask, margin: Int, minimumVoxels: Int) -> (parts: [Mask], removed: [Int]) {
        let labelled = Labelling(whole)
        let counts = labelled.counts
        let kept = counts.indices.filter { counts[$0] >= minimumVoxels }
            .sorted { counts[$0] > counts[$1] || (counts[$0] == counts[$1] && $0 < $1) }
        let parts = kept.map { c in
            let id = Int32(c + 1)
            let outer = labelled.outer
            let tight = labelled.boxes[c]
            let inWhole = IndexBox(lower: tight.lower &+ outer.lower, upper: tight.upper &+ outer.lower)
                .expanded(by: SIMD3(repeating: margin), within: whole.size)
            var part = Mask(geometry: whole.geometry.subGrid(inWhole), repeating: false)
            // Only the component's own box can hold its voxels (the margin around it is empty).
            let shift = outer.lower &- inWhole.lower
            for k in tight.lower.z..<tight.upper.z {
                for j in tight.lower.y..<tight.upper.y {
                    for i in tight.lower.x..<tight.upper.x where labelled.label[labelled.size.linearIndex(i, j, k)] == id {
                        part[i + shift.x, j + shift.y, k + shift.z] = true
                    }
                }
            }
            return part
        }
        return (parts, counts.filter { $0 < minimumVoxels }.sorted(by: >))
    }

    /// `mask` without its 26-connected components of fewer than `minimumVoxels` voxels (specks),
    /// and the voxel counts of those removed, largest first.
    public static func removingSmall(_ mask: Mask, minimumVoxels: Int) -> (mask: Mask, removed: [Int]) {
        guard minimumVoxels > 1 else { return (mask, []) }
        let labelled = Labelling(mask)
        let small = Set(labelled.counts.indices.filter { labelled.counts[$0] < minimumVoxels }.map { Int32($0 + 1) })
        guard !small.isEmpty else { return (mask, []) }
        var cleaned = mask
        let outer = labelled.outer
        for k in 0..<labelled.size.z {
            for j in 0..<labelled.size.y {
                for i in 0..<labelled.size.x where small.contains(labelled.label[labelled.size.linearIndex(i, j, k)]) {
                    cleaned[i + outer.lower.x, j + outer.lower.y, k + outer.lower.z] = false
                }
            }
        }
        return (cleaned, labelled.counts.filter { $0 < minimumVoxels }.sorted(by: >))
    }

    /// The 26-connected components of a mask's bounding box: a label per voxel (0 outside,
    /// component c + 1), each component's box (in the bounding box's indices) and voxel count.
    private struct Labelling {
        let outer: IndexBox
        let size: GridSize
        var label: [Int32]
        var boxes: [IndexBox] = []
        var counts: [Int] = []

        init(_ whole: Mask) {
            outer = whole.boundingBox
            guard !outer.isEmpty else {
                size = GridSize(0, 0, 0)
                label = []
                return
            }
            let mask = whole.cropped(to: outer)
            size = mask.size
            label = [Int32](repeating: 0, count: size.count)
            var stack: [Int] = []
            // Neighbours by linear offset; voxels off the box's faces need no bounds check.
            let (sx, sxy) = (size.x, size.x * size.y)
            var offsets: [Int] = []
            for dk in -1...1 {
                for dj in -1...1 {
                    for di in -1...1 where (di, dj, dk) != (0, 0, 0) { offsets.append(di + dj * sx + dk * sxy) }
                }
            }
            mask.voxels.withUnsafeBufferPointer { inMask in
                label.withUnsafeMutableBufferPointer { label in
                    for seed in 0..<size.count where inMask[seed] && label[seed] == 0 {
                        let id = Int32(boxes.count + 1)
                        label[seed] = id
                        stack.append(seed)
                        var lower = SIMD3(Int.max, Int.max, Int.max)
                        var upper = SIMD3(Int.min, Int.min, Int.min)
                        var count = 0
                        while let v = stack.popLast() {
                            count += 1
                            let (i, j, k) = (v % sx, (v / sx) % size.y, v / sxy)
                            lower = pointwiseMin(lower, SIMD3(i, j, k))
                            upper = pointwiseMax(upper, SIMD3(i + 1, j + 1, k + 1))
                            if i > 0, j > 0, k > 0, i < size.x - 1, j < size.y - 1, k < size.z - 1 {
                                for o in offsets where inMask[v + o] && label[v + o] == 0 {
                                    label[v + o] = id
                                    stack.append(v + o)
                                }
                                continue
                            }
                            for dk in -1...1 {
                                for dj in -1...1 {
                                    for di in -1...1 where size.contains(i + di, j + dj, k + dk) {
                                        let n = size.linearIndex(i + di, j + dj, k + dk)
                                        if inMask[n] && label[n] == 0 {
                                            label[n] = id
                                            stack.append(n)
                                        }
                                    }
                                }
                            }
                        }
                        boxes.append(IndexBox(lower: lower, upper: upper))
                        counts.append(count)
                    }
                }
            }
        }
    }

    /// `mask` with its enclosed holes filled: background voxels that cannot reach the grid's
    /// border through background voxels sharing a face (6-connectivity, the complement of
    /// 26-connected foreground) become foreground. Gas cavities and a closed needle track in
    /// an ablation zone are holes; a channel open to the outside is not.
    public static func fillingHoles(_ mask: Mask) -> Mask {
        // On a copy padded by one voxel of background on every side, flood the background from
        // the padding: the padding is connected, and no neighbour needs a bounds check.
        let size = mask.size
        let padded = SIMD3(size.x + 2, size.y + 2, size.z + 2)
        let (sx, sxy) = (padded.x, padded.x * padded.y)
        let count = sxy * padded.z
        // 0: background not reached, 1: foreground, 2: background reached from outside.
        var state = [UInt8](repeating: 2, count: count)
        state.withUnsafeMutableBufferPointer { state in
            let state = state.baseAddress!
            mask.voxels.withUnsafeBufferPointer { m in
                for k in 0..<size.z {
                    for j in 0..<size.y {
                        let from = size.linearIndex(0, j, k)
                        let to = (k + 1) * sxy + (j + 1) * sx + 1
                        for i in 0..<size.x { state[to + i] = m[from + i] ? 1 : 0 }
                    }
                }
            }
            var stack: [Int] = []
            func reach(_ n: Int) {
                if state[n] == 0 {
                    state[n] = 2
                    stack.append(n)
                }
            }
            // Seeds: background on the faces of the unpadded box (next to the padding).
            for k in 1...size.z {
                for j in 1...size.y {
                    for i in 1...size.x where i == 1 || j == 1 || k == 1 || i == size.x || j == size.y || k == size.z {
                        reach(k * sxy + j * sx + i)
                    }
                }
            }
            while let v = stack.popLast() {
                reach(v - 1)
                reach(v + 1)
                reach(v - sx)
                reach(v + sx)
                reach(v - sxy)
                reach(v + sxy)
            }
        }
        var filled = [Bool](repeating: false, count: size.count)
        for k in 0..<size.z {
            for j in 0..<size.y {
                let from = (k + 1) * sxy + (j + 1) * sx + 1
                let to = size.linearIndex(0, j, k)
                for i in 0..<size.x { filled[to + i] = state[from + i] != 2 }
            }
        }
        return Mask(geometry: mask.geometry, voxels: filled)
    }
}
