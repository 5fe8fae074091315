r"""Step 1 of lecture 001's RLHF workflow: supervised fine-tuning on demonstrations.

"A labeler demonstrates the desired output behavior. This data is used to fine-tune GPT-3
with supervised learning." Here the demonstrator is :func:`rlkit.rlhf.task.demonstrations`
(decent, not optimal under the gold reward) and the model a :class:`~rlkit.rlhf.model.CausalLM`
trained by maximum likelihood on its responses, the prompt tokens given:

.. math:: L^\text{SFT}(\theta) = -\frac{1}{\sum_i |y_i|} \sum_i \sum_t
    \log\pi_\theta(y_{i,t} | x_i, y_{i,<t})

(mean over the real response tokens; the prompt is context, not a target, and padding never
counts). The SFT policy imitates the demonstrator, mistakes included, so its gold reward is
the demonstrator's at best: "why SFT alone is not sufficient".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from rlkit.nets import torch_threads
from rlkit.rlhf.model import CausalLM, response_mask
from rlkit.rlhf.task import TaskConfig, demonstrations, sample_prompts
from rlkit.rollouts import check_settings
from rlkit.seeding import seed_everything

__all__ = ["SFTConfig", "SFTHistory", "demonstration_nll", "sft_loss", "sft_step", "train_sft"]


@dataclass(frozen=True)
class SFTConfig:
    """Settings of :func:`train_sft`; the defaults train in a few seconds on one CPU thread.

    Example:
        >>> SFTConfig().n_demonstrations // SFTConfig().batch_size  # steps per epoch
        62

    """

    task: TaskConfig = field(default_factory=TaskConfig)
    """The synthetic task (vocabulary, lengths, the demonstrator)."""
    n_demonstrations: int = 4_000
    """Prompts with one demonstration each (the SFT data set)."""
    epochs: int = 6
    """Passes over the demonstrations."""
    batch_size: int = 64
    """Demonstrations per gradient step."""
    learning_rate: float = 3e-3
    """Adam's step size (1e-3 to 1e-2 for a model this small)."""
    embed_dim: int = 32
    """Width of the token embedding."""
    hidden_size: int = 64
    """Width of the GRU's state."""
    n_held_out: int = 1_000
    """Demonstrations kept out of training, on which the history reports the NLL."""
    torch_threads: int | None = 1
    """torch CPU threads while training (1: fastest for tiny nets, and reproducible)."""

    def __post_init__(self) -> None:
        check_settings(self, at_least_one=("n_demonstrations", "epochs", "batch_size",
                                           "embed_dim", "hidden_size", "n_held_out"),
                       positive=("learning_rate",))


@dataclass
class SFTHistory:
    """What :func:`train_sft` records."""

    losses: list[float] = field(default_factory=list)
    """Training loss (per-token NLL) of every step."""
    held_out_nll: list[float] = field(default_factory=list)
    """Per-token NLL of the held-out demonstrations before training, then after each epoch."""
    seconds: float = 0.0
    """Wall time of the training loop."""


def sft_loss(logits: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood per real response token (see the module docstring).

    Args:
        logits: ``(B, T, V)`` response logits (:meth:`~rlkit.rlhf.model.CausalLM.response_logits`).
        tokens: ``(B, T)`` demonstrated responses.
        mask: ``(B, T)`` 1 on real tokens.

    Returns:
        A scalar tensor; ln V for a uniform model.

    Example:
        >>> tokens, mask = torch.tensor([[3, 1, 0]]), torch.tensor([[1, 1, 0]])
        >>> sft_loss(torch.zeros(1, 3, 4), tokens % 4, mask)  # ln 4
        tensor(1.3863)

    """
    nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), tokens, reduction="none")
    mask = mask.to(nll.dtype)
    return (nll * mask).sum() / mask.sum().clamp(min=1.0)


def sft_step(
    model: CausalLM,
    optimizer: torch.optim.Optimizer,
    prompts: torch.Tensor,
    responses: torch.Tensor,
) -> float:
    """One gradient step of :func:`sft_loss` on a batch of demonstrations; returns the loss."""
    loss = sft_loss(model.response_logits(prompts, responses), responses,
                    response_mask(responses))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


@torch.no_grad()
def demonstration_nll(model: CausalLM, prompts: torch.Tensor, responses: torch.Tensor) -> float:
    """Per-token NLL of ``responses`` under ``model`` (lower: the model imitates them better)."""
    return float(sft_loss(model.response_logits(prompts, responses), responses,
                          response_mask(responses)))


def train_sft(
    config: SFTConfig = SFTConfig(),  # noqa: B008 (frozen, so a safe default)
    *,
    seed: int,
    progress: bool = False,
) -> tuple[CausalLM, SFTHistory]:
    """Fine-tune a fresh :class:`~rlkit.rlhf.model.CausalLM` on the demonstrator's responses.

    Args:
        config: Settings.
        seed: Seeds the prompts, the demonstrations, the initial weights and the batch order.
        progress: Show a tqdm progress bar over gradient steps.

    Returns:
        The SFT model (in eval mode) and its :class:`SFTHistory`.

    Example:
        >>> model, history = train_sft(SFTConfig(n_demonstrations=256, epochs=1), seed=0)
        >>> len(history.losses), history.held_out_nll[-1] < history.held_out_nll[0]
        (4, True)

    """
    with torch_threads(config.torch_threads):
        rng = seed_everything(seed)
        task = config.task
        prompts = sample_prompts(config.n_demonstrations + config.n_held_out, task, rng)
        responses = demonstrations(prompts, task, rng)
        prompts_t, responses_t = torch.as_tensor(prompts), torch.as_tensor(responses)
        train = slice(0, config.n_demonstrations)
        held_out = slice(config.n_demonstrations, None)
        model = CausalLM(task.vocab_size, config.embed_dim, config.hidden_size)
        optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
        history = SFTHistory()
        history.held_out_nll.append(
            demonstration_nll(model, prompts_t[held_out], responses_t[held_out]))
        steps_per_epoch = max(config.n_demonstrations // config.batch_size, 1)
        start = time.perf_counter()
        with tqdm(total=config.epochs * steps_per_epoch, desc="SFT", disable=not progress) as bar:
            for _ in range(config.epochs):
                order = rng.permutation(config.n_demonstrations)
                for step in range(steps_per_epoch):
                    batch = torch.as_tensor(
                        order[step * config.batch_size:(step + 1) * config.batch_size])
                    history.losses.append(sft_step(model, optimizer, prompts_t[train][batch],
                                                   responses_t[train][batch]))
                    bar.update(1)
                history.held_out_nll.append(
                    demonstration_nll(model, prompts_t[held_out], responses_t[held_out]))
        history.seconds = time.perf_counter() - start
        return model.eval(), history


