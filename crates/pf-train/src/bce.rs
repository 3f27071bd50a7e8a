//! The discriminator's binary cross-entropy with logits (seed 000, `nn.BCEWithLogitsLoss`).
//!
//! L = BCE(D(x_data), 1) + BCE(D(x_particles), 0)
//!   = mean log(1 + e^{−D(x_data)}) + mean log(1 + e^{D(x_particles)}),
//! each term a mean over its batch. The optimal logit is D*(x) = log p_data(x) − log q(x) (for
//! equal batch sizes), the density ratio particle flows follow.

use tch::{Reduction, Tensor};

/// BCE with logits of data (label 1) against particles (label 0). Shapes: [N, 1], [M, 1] → 0-dim.
pub fn bce_logits(logit_data: &Tensor, logit_particles: &Tensor) -> Tensor {
    let real = logit_data.binary_cross_entropy_with_logits::<Tensor>(
        &logit_data.ones_like(),
        None,
        None,
        Reduction::Mean,
    );
    let fake = logit_particles.binary_cross_entropy_with_logits::<Tensor>(
        &logit_particles.zeros_like(),
        None,
        None,
        Reduction::Mean,
    );
    real + fake
}

/// The BCE of a discriminator `d(x, t)` on data against particles at time `t` ([1, 1]).
pub fn bce_loss(
    d: &dyn Fn(&Tensor, &Tensor) -> Tensor,
    data: &Tensor,
    particles: &Tensor,
    t: &Tensor,
) -> Tensor {
    bce_logits(&d(data, t), &d(particles, t))
}
