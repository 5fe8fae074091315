"""The procedures of notebook 06's first part (the exact surrogate): how a case calls it.

Each returns raw outputs only; :mod:`autograder.judge.specs.ppo` compares them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from autograder.box.calls import CaseProblem, procedure


@procedure("ppo.surrogate")
def surrogate_run(fn: Any, mdp: Any, theta: Any, theta_old: Any, horizon: int) -> dict[str, Any]:
    """The surrogate's value at ``theta`` and its autograd gradient with respect to ``theta``."""
    logits = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    value = fn(mdp, logits, np.array(theta_old), horizon)
    if not torch.is_tensor(value) or value.numel() != 1:
        raise CaseProblem(f"return a torch scalar (a tensor with one value); got "
                          f"{type(value).__name__}")
    if value.requires_grad:
        (gradient,) = torch.autograd.grad(value.reshape(()), logits, allow_unused=True)
    else:
        gradient = None
    gradient = torch.zeros_like(logits) if gradient is None else gradient
    # in the student's dtype: a float32 surrogate is compared with float32's precision
    return {"value": value.detach().reshape(()).numpy(), "gradient": gradient.numpy()}
