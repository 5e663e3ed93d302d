public import MAMImaging

/// Connected parts of masks and enclosed holes.
public enum Components {
    /// The 26-connected components of `mask` (voxels sharing a face, an edge or a corner
    /// belong together), largest first, each as a crop of the mask's grid: the component's
    /// bounding box grown by `margin` voxels (clipped to the grid), holding only that component.
    public static func connected26(_ whole: Mask, margin: Int) -> [Mask] {
        // Label within the mask's bounding box only, then map the boxes back.
        let outer = whole.boundingBox
        guard !outer.isEmpty else { return [] }
        let mask = whole.cropped(to: outer)
        let size = mask.size
        var label = [Int32](repeating: 0, count: size.count)
        var boxes: [IndexBox] = []
        var counts: [Int] = []
        var stack: [Int] = []
        for seed in 0..<size.count where mask.voxels[seed] && label[seed] == 0 {
            let id = Int32(boxes.count + 1)
            label[seed] = id
            stack.append(seed)
            var lower = SIMD3(Int.max, Int.max, Int.max)
            var upper = SIMD3(Int.min, Int.min, Int.min)
            var count = 0
            while let v = stack.popLast() {
                count += 1
                let (i, j, k) = (v % size.x, (v / size.x) % size.y, v / (size.x * size.y))
                lower = pointwiseMin(lower, SIMD3(i, j, k))
                upper = pointwiseMax(upper, SIMD3(i + 1, j + 1, k + 1))
                for dk in -1...1 {
                    for dj in -1...1 {
                        for di in -1...1 where size.contains(i + di, j + dj, k + dk) {
                            let n = size.linearIndex(i + di, j + dj, k + dk)
                            if mask.voxels[n] && label[n] == 0 {
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
        let order = boxes.indices.sorted { counts[$0] > counts[$1] || (counts[$0] == counts[$1] && $0 < $1) }
        return order.map { c in
            let id = Int32(c + 1)
            let inWhole = IndexBox(lower: boxes[c].lower &+ outer.lower, upper: boxes[c].upper &+ outer.lower)
                .expanded(by: SIMD3(repeating: margin), within: whole.size)
            var part = Mask(geometry: whole.geometry.subGrid(inWhole), repeating: false)
            for k in inWhole.lower.z..<inWhole.upper.z {
                for j in inWhole.lower.y..<inWhole.upper.y {
                    for i in inWhole.lower.x..<inWhole.upper.x {
                        let local = SIMD3(i, j, k) &- outer.lower
                        guard size.contains(local.x, local.y, local.z),
                              label[size.linearIndex(local.x, local.y, local.z)] == id else { continue }
                        part[i - inWhole.lower.x, j - inWhole.lower.y, k - inWhole.lower.z] = true
                    }
                }
            }
            return part
        }
    }

    /// `mask` with its enclosed holes filled: background voxels that cannot reach the grid's
    /// border through background voxels sharing a face (6-connectivity, the complement of
    /// 26-connected foreground) become foreground. Gas cavities and a closed needle track in
    /// an ablation zone are holes; a channel open to the outside is not.
    public static func fillingHoles(_ mask: Mask) -> Mask {
        let size = mask.size
        var outside = [Bool](repeating: false, count: size.count)
        var stack: [Int] = []
        func visit(_ i: Int, _ j: Int, _ k: Int) {
            let n = size.linearIndex(i, j, k)
            if !mask.voxels[n] && !outside[n] {
                outside[n] = true
                stack.append(n)
            }
        }
        for k in 0..<size.z {
            for j in 0..<size.y {
                for i in 0..<size.x where i == 0 || j == 0 || k == 0 || i == size.x - 1 || j == size.y - 1 || k == size.z - 1 {
                    visit(i, j, k)
                }
            }
        }
        while let v = stack.popLast() {
            let (i, j, k) = (v % size.x, (v / size.x) % size.y, v / (size.x * size.y))
            if i > 0 { visit(i - 1, j, k) }
            if i < size.x - 1 { visit(i + 1, j, k) }
            if j > 0 { visit(i, j - 1, k) }
            if j < size.y - 1 { visit(i, j + 1, k) }
            if k > 0 { visit(i, j, k - 1) }
            if k < size.z - 1 { visit(i, j, k + 1) }
        }
        return Mask(geometry: mask.geometry, voxels: outside.map { !$0 })
    }
}

extension Components {
    /// One mask per distinct label value in `labels` (a protocol may number tumours 2, 3, ...
    /// instead of separating them by connectivity), in ascending label order; labels absent
    /// from the image are skipped.
    public static func byLabel(_ image: NIfTIImage, labels: [Int]) throws(ImageIOError) -> [(label: Int, mask: Mask)] {
        let present = try image.labelCounts()
        var result: [(label: Int, mask: Mask)] = []
        for label in labels.sorted() where present[label, default: 0] > 0 {
            result.append((label, try image.mask(label: label)))
        }
        return result
    }
}
