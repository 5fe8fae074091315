"""The procedures of notebook 05's second part (A2C): how each case calls the student's function.

Each returns raw outputs only; :mod:`autograder.judge.specs.a2c` compares them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from autograder.box.calls import NOT_AN_ARRAY, CaseProblem, module_state, procedure

#: the a2c_loss's inputs, in the order of its signature (each requires grad in a case).
LOSS_INPUTS = ("log_probs", "advantages", "values", "returns", "entropy")
#: those of them that are constants of the loss: their gradient must be 0
LOSS_CONSTANTS = ("advantages", "returns")


def constant(name: str) -> str:
    """The input name under which a constant's gradient is reported (it must get none).

    The judge's diagnosis (:mod:`autograder.judge.diagnose`) reads the mark: a gradient that
    reaches such an input is a missing ``.detach()``.
    """
    return f"{name} (a constant: 0)"


def loss_inputs(n: int, seed: int) -> dict[str, np.ndarray]:
    """A random batch of ``n`` steps of the loss's inputs, drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    return {"log_probs": -rng.exponential(size=n), "advantages": rng.normal(size=n),
            "values": rng.normal(size=n), "returns": rng.normal(size=n),
            "entropy": rng.uniform(0.1, 1.0, size=n)}


@procedure("a2c.loss")
def loss_run(fn: Any, n: int, seed: int, value_coef: float, entropy_coef: float,
             dtype: torch.dtype = torch.float32) -> dict[str, Any]:
    """The loss and its gradient with respect to each of its five tensor inputs."""
    data = loss_inputs(n, seed)
    tensors = {k: torch.tensor(v, dtype=dtype, requires_grad=True) for k, v in data.items()}
    loss = fn(*(tensors[k] for k in LOSS_INPUTS), value_coef, entropy_coef)
    if not torch.is_tensor(loss) or loss.ndim != 0:
        raise CaseProblem(f"return a scalar (0-dim) torch tensor; got {loss!r}")
    if not loss.requires_grad:
        raise CaseProblem("the loss has no gradient: compute it with torch operations "
                          "(no .item(), .numpy() or .detach() of log_probs or values)")
    loss.backward()

    def grad(name: str) -> np.ndarray:
        g = tensors[name].grad
        return np.zeros(n) if g is None else g.double().numpy()

    return {"loss": loss.item(),
            **{f"d loss / d {constant(k) if k in LOSS_CONSTANTS else k}": grad(k)
               for k in LOSS_INPUTS}}


@procedure("a2c.gaussian_log_prob")
def gauss_run(fn: Any, actions: Any, mean: Any, log_std: Any,
              as_tensors: bool = True) -> dict[str, Any]:
    """{log-prob, d/d mean, d/d log_std} (the log-prob only for numpy inputs).

    For numpy inputs the notebook promises a float array back: anything else comes back as
    ``{NOT_AN_ARRAY: its type}``.
    """
    if not as_tensors:
        got = fn(np.asarray(actions), np.asarray(mean), np.asarray(log_std))
        if not isinstance(got, np.ndarray | np.floating):
            return {NOT_AN_ARRAY: type(got).__name__}
        return {"log_prob": np.asarray(got, dtype=np.float64)}
    a = torch.tensor(actions, dtype=torch.float64)
    mu = torch.tensor(mean, dtype=torch.float64, requires_grad=True)
    log_sigma = torch.tensor(log_std, dtype=torch.float64, requires_grad=True)
    got = fn(a, mu, log_sigma)
    if not torch.is_tensor(got):
        raise CaseProblem(f"with tensor inputs, return a torch tensor; got {type(got).__name__}")
    got.sum().backward()
    return {"log_prob": got.detach().numpy(),
            "d/d mean": np.zeros(mu.shape) if mu.grad is None else mu.grad.numpy(),
            "d/d log_std": (np.zeros(log_sigma.shape) if log_sigma.grad is None
                            else log_sigma.grad.numpy())}


#: the trainer's keyword of each of the student's functions.
TRAIN_KEYWORDS = {"gae": "gae_fn", "a2c_loss": "loss_fn"}


def config_from(params: dict[str, Any]) -> dict[str, Any]:
    """A config's fields as sent (lists back to the tuples the config holds)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}


def trained_policy(train: Any, config_type: Any, keywords: dict[str, str], fn: Any, seed: int,
                   config: dict[str, Any]) -> dict[str, np.ndarray]:
    """An on-policy trainer's run with the student's functions; the trained policy's weights.

    ``train`` is rlkit's trainer (A2C's or PPO's), ``config_type`` its config, ``keywords`` the
    trainer's keyword of each of the student's functions in ``fn`` (a dict of them).
    """
    pieces = {keywords[name]: f for name, f in dict(fn).items()}
    history = train(config_type(**config_from(config)), seed=seed, **pieces)
    return module_state(history.policy)


@procedure("a2c.learn")
def learn_run(fn: Any, seed: int, config: dict[str, Any]) -> dict[str, np.ndarray]:
    """A2C on CartPole-v1 with the student's gae and a2c_loss; the trained policy's weights."""
    from rlkit.agents import a2c

    return trained_policy(a2c.train, a2c.A2CConfig, TRAIN_KEYWORDS, fn, seed, config)
