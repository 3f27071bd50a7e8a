//! Target outlines drawn over scatter plots.

/// A closed polyline of `n` segments (`n + 1` points, the last equal to the first) tracing the
/// ellipse with semi-axes `rx`, `ry` centred at `(cx, cy)` — the ring target of seed 003.
/// `n` below 3 is raised to 3.
pub fn ellipse_outline(rx: f64, ry: f64, cx: f64, cy: f64, n: usize) -> Vec<(f64, f64)> {
    let n = n.max(3);
    (0..=n)
        .map(|k| {
            let a = std::f64::consts::TAU * (k % n) as f64 / n as f64;
            (cx + rx * a.cos(), cy + ry * a.sin())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ellipse_points_lie_on_the_ellipse_and_close() {
        let e = ellipse_outline(1.0, 2.5, 1.0, -1.0, 64);
        assert_eq!(e.len(), 65);
        assert_eq!(e[0], *e.last().unwrap());
        assert!((e[0].0 - 2.0).abs() < 1e-12 && (e[0].1 + 1.0).abs() < 1e-12);
        for &(x, y) in &e {
            let r = ((x - 1.0) / 1.0).powi(2) + ((y + 1.0) / 2.5).powi(2);
            assert!((r - 1.0).abs() < 1e-12);
        }
        assert_eq!(ellipse_outline(1.0, 1.0, 0.0, 0.0, 0).len(), 4);
    }
}
