"""Reference solution for assignment 1: tensors and their operations."""

import numpy as np
import torch


def tensor_from_list(values):
    return torch.tensor(values)


def tensor_sharing_memory(array):
    return torch.from_numpy(array)


def numpy_from_tensor(t):
    return t.detach().cpu().numpy()


def like(t):
    return {"zeros": torch.zeros_like(t), "ones": torch.ones_like(t), "rand": torch.rand_like(t)}


def tensor_info(t):
    return {"shape": tuple(t.shape), "dtype": str(t.dtype), "device": str(t.device), "ndim": t.dim()}


def elementwise(x, y):
    return x + y, x - y, x * y, x / y, x ** y, torch.exp(x)


def concatenate(x, y):
    return torch.cat((x, y), dim=0), torch.cat((x, y), dim=1)


def pick(x):
    return {"last_row": x[-1], "rows_1_2": x[1:3], "row_0_first_two": x[0, 0:2], "column_1": x[:, 1]}


def fill_rows(x, value):
    out = x.clone()
    out[0:2, :] = value
    return out


def flatten_samples(images):
    return images.reshape(images.shape[0], -1)


def make_batches(data, batch_size=128):
    return [data[i:i + batch_size] for i in range(0, data.shape[0], batch_size)]


def vector_norms(v):
    return v.abs().sum(), torch.sqrt((v ** 2).sum())


def frobenius_norm(m):
    return torch.sqrt((m ** 2).sum())


def is_symmetric(a, tol=1e-6):
    return a.shape[0] == a.shape[1] and bool(torch.allclose(a, a.T, atol=tol, rtol=0))


def is_orthogonal(q, tol=1e-5):
    if q.dim() != 2 or q.shape[0] != q.shape[1]:
        return False
    identity = torch.eye(q.shape[0], dtype=q.dtype, device=q.device)
    return bool(torch.allclose(q.T @ q, identity, atol=tol, rtol=0))


def matrix_product(a, b):
    return a @ b


def transpose(a):
    return a.T
