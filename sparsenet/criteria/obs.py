"""Optimal Brain Surgeon, layerwise, with the weight-update compensation.

Hassibi & Stork, "Second order derivatives for network pruning: Optimal Brain Surgeon", NIPS 5
(1993); layerwise as in Frantar, Singh & Alistarh, "Optimal Brain Compression", NeurIPS 2022
(arXiv:2208.11580) and SparseGPT (Frantar & Alistarh 2023, arXiv:2301.00774).

Each layer is treated on its own: keep its outputs on the data, ``E(Ŵ) = (1/N) Σ_n ||(W - Ŵ) x_n||²``.
The Hessian of E for one row is the same for every row, ``H = (2/N) Σ_n x_n x_nᵀ + λ I`` (inputs
``x_n`` are the layer's inputs — conv inputs unfolded into patches; damping ``λ = damp ·
mean(diag H)``). OBS for deleting one weight ``w_q`` of a row:

    saliency  L_q = w_q² / (2 [H⁻¹]_qq)              (the criterion; higher = keep)
    update    δw  = -(w_q / [H⁻¹]_qq) · H⁻¹ e_q       (the other weights compensate)

For a whole set ``P`` of deleted weights of a row (the kept ones ``K``), the minimiser of
``(ŵ - w) H (ŵ - w)ᵀ`` with ``ŵ_P = 0`` is   ŵ_K = w_K + H_KK⁻¹ H_KP w_P   — computed exactly
by `compensate`, row by row (a least-squares refit of the kept weights to the dense outputs).
"""
from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from .base import Scores, as_matrix, layer_io, need_batch, register, target_names

_NEEDS = "a batch of training inputs (x, y) to measure each layer's input second moments, e.g. 256"


def layer_hessian(inputs: torch.Tensor, damp: float) -> torch.Tensor:
    """``(2/N) XᵀX + damp · mean(diag) · I`` for inputs X of shape (N, d), in float64."""
    X = inputs.to(torch.float64)
    H = 2.0 * X.T @ X / X.shape[0]  # (d, N) @ (N, d) -> (d, d)
    lam = damp * float(H.diagonal().mean()) if H.numel() else 0.0
    if lam <= 0:
        lam = damp if damp > 0 else 1e-8
    return H + lam * torch.eye(H.shape[0], dtype=H.dtype, device=H.device)


@register("obs", needs=_NEEDS, paper="Hassibi & Stork 1993; OBC arXiv:2208.11580: w^2 / (2 [H^-1]_qq)")
def obs(model: nn.Module, *, batch=None, loss_fn=None, names=None, damp: float = 0.01) -> Scores:
    """Layerwise OBS saliency ``w_q² / (2 [H⁻¹]_qq)`` (`loss_fn` is not used: the layerwise loss
    is the reconstruction error of the layer's outputs)."""
    x, _ = need_batch("obs", batch, _NEEDS)
    names = target_names(model, names)
    io = layer_io(model, names, x, "obs")
    params = dict(model.named_parameters())
    out = {}
    for n in names:
        W = as_matrix(params[n].detach()).to(torch.float64)  # (out, fan_in)
        Hinv = torch.cholesky_inverse(torch.linalg.cholesky(layer_hessian(io[n][0], damp)))
        s = W ** 2 / (2.0 * Hinv.diagonal())  # broadcast over rows
        out[n] = s.reshape(params[n].shape).to(params[n].dtype)
    return out


@torch.no_grad()
def compensate(model: nn.Module, masks: Mapping[str, torch.Tensor], *, batch, damp: float = 0.01) -> dict[str, torch.Tensor]:
    """New weights for every masked layer: pruned entries 0, kept entries refit by the OBS update
    ``ŵ_K = w_K + H_KK⁻¹ H_KP w_P`` (per row). Pure: returns tensors, the model is not changed."""
    x, _ = need_batch("obs", batch, _NEEDS)
    names = list(masks)
    io = layer_io(model, names, x, "obs")
    params = dict(model.named_parameters())
    out = {}
    for n in names:
        p = params[n]
        W = as_matrix(p.detach()).to(torch.float64)
        M = as_matrix(masks[n].to(p.device))
        H = layer_hessian(io[n][0], damp)
        new = torch.zeros_like(W)
        for i in range(W.shape[0]):
            keep = M[i]
            if not bool(keep.any()):
                continue
            drop = ~keep
            w = W[i]
            wk = w[keep]
            if bool(drop.any()):
                # Solve H_KK δ = H_KP w_P for the kept weights' correction.
                rhs = H[keep][:, drop] @ w[drop]
                wk = wk + torch.linalg.solve(H[keep][:, keep], rhs)
            new[i, keep] = wk
        out[n] = new.reshape(p.shape).to(p.dtype)
    return out
