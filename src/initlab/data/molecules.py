"""Molecules as dense graph tensors: QM9 (qm9pack) and MOSES (molsets' CSVs), with RDKit.

Preparation of one SMILES (`encode_smiles`):

1. ``Chem.MolFromSmiles`` (parses and sanitises), then ``Chem.RemoveHs``: hydrogens are implicit.
2. Dropped, with the reason counted: unparsable; any atom with a formal charge (the GEM brief:
   QM9's ~580 zwitterions and ions are dropped, not neutralised, and no "relaxed" charges); radicals;
   fewer than ``min_nodes`` or more than ``max_nodes`` heavy atoms; an element outside the atom
   vocabulary (a residual explicit H counts as such).
3. The canonical SMILES is RDKit's ``MolToSmiles(mol, isomericSmiles=False)`` of the sanitised
   molecule: aromatic form, no stereo (the graph tensors carry none).
4. ``Chem.Kekulize(mol, clearAromaticFlags=True)``: bonds are single / double / triple, so the bond
   vocabulary is ``none, single, double, triple`` (no aromatic class).

Graph tensors of a prepared set (``data/prepared/qm9.nc``, ``data/prepared/moses/<split>.nc``):

``X``     (mol, node, atom_type) uint8 one-hot atom type; all-zero rows for padding nodes.
``E``     (mol, node, node_j, bond_type) uint8 one-hot bond class, symmetric; class 0 = no bond,
          the diagonal of a real node is class 0 ("no bond"); all-zero for pairs with a padding
          node. Node order is the atom order of the parsed source SMILES.
``mask``  (mol, node) uint8, 1 for real nodes; graphs are padded to ``max_nodes``.
``n_nodes``, ``smiles`` (canonical), ``split`` (train / val / test, or the MOSES split),
``source_index`` (row in the source: QM9's ``Index`` column, MOSES' CSV row),
``node_count_hist`` (hist_split, size): molecules per heavy-atom count, over all and per split.
Coordinates ``atom_type`` and ``bond_type`` are the vocabularies, also in the attributes
``atom_vocab`` / ``bond_vocab`` with ``max_nodes``.

`graph_to_mol` / `graph_to_smiles` decode a graph (RWMol from the labels, then ``SanitizeMol``):
the round trip SMILES -> tensors -> molecule -> canonical SMILES is the identity on every kept
molecule (tests/test_data_molecules.py measures it on QM9).
"""

from __future__ import annotations

import os
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import xarray as xr

__all__ = [
    "BONDS",
    "DROP_REASONS",
    "MOSES_ATOMS",
    "QM9_ATOMS",
    "decode_labels",
    "dense_labels",
    "encode_many",
    "encode_smiles",
    "graph_to_mol",
    "graph_to_smiles",
    "one_hot",
    "prepare_molecules",
    "prepare_moses",
    "prepare_qm9",
    "read_moses_smiles",
    "read_qm9_smiles",
    "split_labels",
]

QM9_ATOMS = ("C", "N", "O", "F")
MOSES_ATOMS = ("C", "N", "S", "O", "F", "Cl", "Br")
BONDS = ("none", "single", "double", "triple")
DROP_REASONS = (
    "unparsable",
    "charged",
    "radical",
    "too_few_atoms",
    "too_many_atoms",
    "atom_not_in_vocab",
    "kekulize_failed",
)
CHUNK = 2000
BLOCK = 16384  # molecules per block when the one-hot tensors are written


def _rdkit():
    try:
        from rdkit import Chem, RDLogger
    except ImportError as exc:  # pragma: no cover - exercised only without rdkit
        raise ImportError(
            "molecule preparation needs RDKit: pip install rdkit (or the 'data' extra)"
        ) from exc
    RDLogger.DisableLog("rdApp.*")
    return Chem


def _bond_class(Chem):
    return {Chem.BondType.SINGLE: 1, Chem.BondType.DOUBLE: 2, Chem.BondType.TRIPLE: 3}


def encode_smiles(
    smiles: str, atoms: Sequence[str], *, max_nodes: int, min_nodes: int = 2
) -> tuple[np.ndarray, np.ndarray, str] | str:
    """``(atom_labels (n,), bonds (k, 3) rows i<j,class, canonical SMILES)`` or a drop reason."""
    Chem = _rdkit()
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return "unparsable"
    mol = Chem.RemoveHs(mol)
    atom_list = list(mol.GetAtoms())
    if any(a.GetFormalCharge() != 0 for a in atom_list):
        return "charged"
    if any(a.GetNumRadicalElectrons() for a in atom_list):
        return "radical"
    n = len(atom_list)
    if n < min_nodes:
        return "too_few_atoms"
    if n > max_nodes:
        return "too_many_atoms"
    index = {s: k for k, s in enumerate(atoms)}
    try:
        labels = np.array([index[a.GetSymbol()] for a in atom_list], dtype=np.int8)
    except KeyError:
        return "atom_not_in_vocab"
    canonical = Chem.MolToSmiles(mol, isomericSmiles=False)
    try:
        Chem.Kekulize(mol, clearAromaticFlags=True)
    except Exception:  # rdkit raises KekulizeException (a ValueError subclass in new versions)
        return "kekulize_failed"
    classes = _bond_class(Chem)
    bonds = np.array(
        [
            (
                min(b.GetBeginAtomIdx(), b.GetEndAtomIdx()),
                max(b.GetBeginAtomIdx(), b.GetEndAtomIdx()),
                classes[b.GetBondType()],
            )
            for b in mol.GetBonds()
        ],
        dtype=np.int16,
    ).reshape(-1, 3)
    return labels, bonds, canonical


def _encode_chunk(args) -> list:
    smiles, atoms, max_nodes, min_nodes = args
    return [encode_smiles(s, atoms, max_nodes=max_nodes, min_nodes=min_nodes) for s in smiles]


def encode_many(
    smiles: Sequence[str],
    atoms: Sequence[str],
    *,
    max_nodes: int,
    min_nodes: int = 2,
    limit: int | None = None,
    threads: int = 1,
) -> tuple[list[int], list[tuple], Counter]:
    """Encode ``smiles`` in order until ``limit`` molecules are kept (all when None).

    Returns the kept positions into ``smiles``, their encodings, and the drop counts by reason.
    ``threads > 1`` spreads chunks over processes; the result is the same as with one.
    """
    chunks = [smiles[i : i + CHUNK] for i in range(0, len(smiles), CHUNK)]
    args = ((list(c), tuple(atoms), max_nodes, min_nodes) for c in chunks)
    kept, encoded, dropped = [], [], Counter()

    def consume(results: Iterator[list]) -> None:
        position = 0
        for chunk_result in results:
            for item in chunk_result:
                if limit is not None and len(kept) >= limit:
                    return
                if isinstance(item, str):
                    dropped[item] += 1
                else:
                    kept.append(position)
                    encoded.append(item)
                position += 1

    if threads > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(max_workers=threads) as pool:
            consume(_windowed(pool, args, 2 * threads))
    else:
        consume(map(_encode_chunk, args))
    return kept, encoded, dropped


def _windowed(pool: ProcessPoolExecutor, args: Iterator, window: int) -> Iterator[list]:
    """Results of `_encode_chunk` in order, with at most ``window`` chunks in flight, so a
    ``limit`` reached early wastes little work."""
    pending = deque()
    for item in args:
        pending.append(pool.submit(_encode_chunk, item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def dense_labels(encoded: Sequence[tuple], max_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer labels: atoms (m, n) int8 (-1 = padding), bonds (m, n, n) int8 (0 = none,
    -1 = a pair with a padding node), symmetric."""
    m = len(encoded)
    n_nodes = np.array([len(e[0]) for e in encoded], dtype=np.int64)
    node = np.full((m, max_nodes), -1, dtype=np.int8)
    valid = np.arange(max_nodes)[None, :] < n_nodes[:, None]
    node[valid] = np.concatenate([e[0] for e in encoded]) if m else []
    edge = np.where(valid[:, :, None] & valid[:, None, :], 0, -1).astype(np.int8)
    counts = np.array([len(e[1]) for e in encoded], dtype=np.int64)
    if counts.sum():
        bonds = np.concatenate([e[1] for e in encoded]).astype(np.int64)
        mol = np.repeat(np.arange(m), counts)
        edge[mol, bonds[:, 0], bonds[:, 1]] = bonds[:, 2]
        edge[mol, bonds[:, 1], bonds[:, 0]] = bonds[:, 2]
    return node, edge


def one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """uint8 one-hot along a new last axis; label -1 gives an all-zero vector."""
    return (labels[..., None] == np.arange(n_classes, dtype=labels.dtype)).astype(np.uint8)


def decode_labels(X: np.ndarray, E: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One-hot tensors of one graph -> (atom labels (k,), edge labels (k, k)) of its real nodes."""
    real = np.asarray(mask).astype(bool)
    atoms = np.asarray(X)[real].argmax(-1)
    edges = np.asarray(E)[np.ix_(real, real)].argmax(-1)
    return atoms, edges


def graph_to_mol(atom_labels, edge_labels, atoms: Sequence[str], *, sanitize: bool = True):
    """An RDKit molecule from atom labels and a symmetric bond-class matrix (i<j is read).

    Returns None when ``SanitizeMol`` fails (an invalid graph). Hydrogens are implicit.
    """
    Chem = _rdkit()
    bond_types = {1: Chem.BondType.SINGLE, 2: Chem.BondType.DOUBLE, 3: Chem.BondType.TRIPLE}
    rw = Chem.RWMol()
    for label in atom_labels:
        rw.AddAtom(Chem.Atom(atoms[int(label)]))
    edge_labels = np.asarray(edge_labels)
    rows, cols = np.nonzero(np.triu(edge_labels, 1))
    for i, j in zip(rows.tolist(), cols.tolist()):
        rw.AddBond(i, j, bond_types[int(edge_labels[i, j])])
    mol = rw.GetMol()
    if sanitize:
        try:
            Chem.SanitizeMol(mol)
        except Exception:
            return None
    return mol


def graph_to_smiles(X, E, mask, atoms: Sequence[str]) -> str | None:
    """Canonical SMILES (non-isomeric) of one one-hot graph, or None if it is not a valid molecule."""
    Chem = _rdkit()
    mol = graph_to_mol(*decode_labels(X, E, mask), atoms)
    return None if mol is None else Chem.MolToSmiles(mol, isomericSmiles=False)


def split_labels(n: int, train: float | int, test: float | int) -> np.ndarray:
    """``train`` for the first ``train`` molecules, ``test`` for the next ``test``, ``val`` for the
    rest (the molecules are already in seeded random order). A size below 1 is a fraction of ``n``
    (``int(fraction * n)``, as DiGress does); ``-1`` for train means "all that the test split leaves".
    """

    def size(value) -> int:
        return int(value * n) if isinstance(value, float) and value < 1 else int(value)

    n_test = size(test)
    n_train = n - n_test if train == -1 else size(train)
    if n_train < 0 or n_test < 0 or n_train + n_test > n:
        raise ValueError(f"split train={train}, test={test} does not fit {n} molecules")
    out = np.full(n, "val", dtype="<U5")
    out[:n_train] = "train"
    out[n_train : n_train + n_test] = "test"
    return out


def prepare_molecules(
    smiles: Sequence[str],
    source_index: np.ndarray,
    output: str | os.PathLike,
    *,
    artefact: str,
    source: str,
    inputs_sha256: Mapping[str, str],
    atoms: Sequence[str],
    max_nodes: int,
    min_nodes: int = 2,
    seed: int = 0,
    subset: int | None = None,
    split: str | Mapping = "train",
    threads: int = 1,
    log: Callable[[str], object] = print,
    extra_params: Mapping | None = None,
) -> xr.Dataset:
    """Shuffle with ``np.random.default_rng(seed)``, encode in that order until ``subset`` are kept
    (all when None), assign the split, and write the tensors with their provenance.

    ``split`` is either a fixed name for every molecule (a MOSES split) or
    ``{"train": n_train, "test": n_test}`` for `split_labels` (the rest is ``val``).
    """
    from rdkit import __version__ as rdkit_version

    from initlab.data.prepared import Timer, write_prepared

    timer = Timer()
    n_source = len(smiles)
    order = np.random.default_rng(seed).permutation(n_source)
    shuffled = [smiles[i] for i in order]
    kept, encoded, dropped = encode_many(
        shuffled, atoms, max_nodes=max_nodes, min_nodes=min_nodes, limit=subset, threads=threads
    )
    t_encode = timer()
    m = len(encoded)
    if subset is not None and m < subset:
        raise ValueError(
            f"{artefact}: only {m} of the {subset} requested molecules survive preparation"
        )
    considered = m + sum(dropped.values())
    labels = (
        np.full(m, split, dtype="<U16")
        if isinstance(split, str)
        else split_labels(m, split["train"], split["test"])
    )
    node, edge = dense_labels(encoded, max_nodes)
    n_nodes = (node >= 0).sum(axis=1)
    names = ["all", *dict.fromkeys(labels.tolist())]
    hist = np.stack(
        [
            np.bincount(n_nodes[labels == s] if s != "all" else n_nodes, minlength=max_nodes + 1)
            for s in names
        ]
    )
    atom_counts = np.bincount(node[node >= 0], minlength=len(atoms))
    upper = np.triu(np.ones((max_nodes, max_nodes), dtype=bool), 1)
    pair_labels = edge[:, upper]
    bond_counts = np.bincount(pair_labels[pair_labels >= 0], minlength=len(BONDS))
    ds = xr.Dataset(
        {
            "n_nodes": ("mol", n_nodes.astype(np.int16)),
            "smiles": ("mol", np.array([e[2] for e in encoded], dtype=object).astype(str)),
            "split": ("mol", labels),
            "source_index": ("mol", np.asarray(source_index)[order[kept]].astype(np.int64)),
            "node_count_hist": (("hist_split", "size"), hist.astype(np.int64)),
            "atom_count": ("atom_type", atom_counts.astype(np.int64)),
            "pair_count": ("bond_type", bond_counts.astype(np.int64)),
        },
        coords={
            "mol": np.arange(m),
            "node": np.arange(max_nodes),
            "node_j": np.arange(max_nodes),
            "atom_type": list(atoms),
            "bond_type": list(BONDS),
            "hist_split": names,
            "size": np.arange(max_nodes + 1),
        },
        attrs={
            "atom_vocab": ",".join(atoms),
            "bond_vocab": ",".join(BONDS),
            "max_nodes": str(max_nodes),
            "max_nodes_seen": str(int(n_nodes.max()) if m else 0),
            "kekulized": "true",
            "hydrogens": "removed (implicit)",
            "charges": "molecules with any formal charge are dropped",
            "rdkit_version": rdkit_version,
        },
    )
    ds["atom_count"].attrs["description"] = "atoms per type over all molecules"
    ds["pair_count"].attrs[
        "description"
    ] = "node pairs i<j per bond class (class 0 = no bond) over all molecules"
    counts = {
        "n_source": n_source,
        "n_considered": int(considered),
        "n_molecules": m,
        "dropped": {r: int(dropped.get(r, 0)) for r in DROP_REASONS},
        "by_split": {s: int((labels == s).sum()) for s in names[1:]},
        "max_nodes_seen": int(n_nodes.max()) if m else 0,
        "node_count_hist": hist[0].tolist(),
    }

    def write_tensors(tmp: Path) -> None:
        import netCDF4

        with netCDF4.Dataset(tmp, "a") as nc:
            block = max(1, min(m, 4096))
            specs = {
                "X": (("mol", "node", "atom_type"), (block, max_nodes, len(atoms))),
                "E": (
                    ("mol", "node", "node_j", "bond_type"),
                    (block, max_nodes, max_nodes, len(BONDS)),
                ),
                "mask": (("mol", "node"), (block, max_nodes)),
            }
            var = {
                name: nc.createVariable(
                    name, "u1", dims, zlib=True, complevel=1, chunksizes=chunks, fill_value=False
                )
                for name, (dims, chunks) in specs.items()
            }
            var["X"].description = "one-hot atom type; zero rows for padding nodes"
            var["E"].description = (
                "one-hot bond class (0 = no bond, also on the diagonal); zero for padding pairs"
            )
            var["mask"].description = "1 for real nodes"
            for start in range(0, m, BLOCK):
                stop = min(m, start + BLOCK)
                var["X"][start:stop] = one_hot(node[start:stop], len(atoms))
                var["E"][start:stop] = one_hot(edge[start:stop], len(BONDS))
                var["mask"][start:stop] = (node[start:stop] >= 0).astype(np.uint8)

    params = {
        "seed": seed,
        "subset": subset,
        "split": split if isinstance(split, str) else dict(split),
        "atoms": list(atoms),
        "bonds": list(BONDS),
        "max_nodes": max_nodes,
        "min_nodes": min_nodes,
        **dict(extra_params or {}),
    }
    written = write_prepared(
        ds,
        output,
        artefact=artefact,
        source=source,
        inputs_sha256=inputs_sha256,
        counts=counts,
        params=params,
        created_by="initlab.data.molecules.prepare_molecules",
        wall_seconds=timer(),
        encoding={"smiles": {"zlib": True}, "split": {"zlib": True}},
        extra=write_tensors,
    )
    log(
        f"{artefact}: {m} molecules kept of {considered} considered ({n_source} in the source); "
        f"dropped {dict((r, c) for r, c in counts['dropped'].items() if c)}; split {counts['by_split']}; "
        f"atom vocab {list(atoms)} (counts {atom_counts.tolist()}), bond vocab {list(BONDS)}; "
        f"max nodes {counts['max_nodes_seen']} (padded to {max_nodes}); node-count histogram {hist[0].tolist()}; "
        f"encode {t_encode:.1f} s, total {timer():.1f} s -> {output}"
    )
    return written


def _sha256s(paths: Sequence[Path]) -> dict[str, str]:
    from initlab.data.fetch import sha256_file

    return {Path(p).name: sha256_file(p) for p in paths}


def read_qm9_smiles(csvs: Sequence[str | os.PathLike]) -> tuple[list[str], np.ndarray]:
    """SMILES and QM9 ``Index`` of qm9pack's CSVs, in file order (130,831 rows)."""
    import pandas as pd

    frames = [pd.read_csv(p, usecols=["Index", "SMILES"]) for p in csvs]
    df = pd.concat(frames, ignore_index=True)
    return df["SMILES"].astype(str).tolist(), df["Index"].to_numpy(dtype=np.int64)


def read_moses_smiles(csv: str | os.PathLike) -> list[str]:
    """SMILES of one of molsets' ``<split>.csv.gz`` files."""
    import pandas as pd

    return pd.read_csv(csv, usecols=["SMILES"])["SMILES"].astype(str).tolist()


def prepare_qm9(
    csvs: Sequence[str | os.PathLike] | None,
    output: str | os.PathLike,
    *,
    seed: int,
    subset: int | None,
    train: float | int,
    test: float | int,
    atoms: Sequence[str] = QM9_ATOMS,
    max_nodes: int = 9,
    min_nodes: int = 2,
    threads: int = 1,
    log: Callable[[str], object] = print,
) -> xr.Dataset:
    """QM9 (no H) from qm9pack 1.0.3's CSVs.

    ``csvs`` None finds them: the installed ``qm9pack`` package, else the copies the ``qm9_fetch``
    rule took out of its downloaded wheel (``data/raw/qm9/``). Each CSV is checked against its
    pinned sha256 (``registry.QM9_CSV_SHA256``) whatever its source; a mismatch raises
    `initlab.data.fetch.ChecksumError` naming the file and the expected hash.
    """
    from initlab.data.fetch import ChecksumError
    from initlab.data.registry import QM9_CSV_SHA256, QM9_N_MOLECULES, qm9_csv_paths, qm9_raw_paths

    if not csvs:
        csvs = qm9_csv_paths() or qm9_raw_paths()
        if csvs is None:
            raise FileNotFoundError(
                "QM9 comes from the qm9pack package (pip install --no-deps qm9pack==1.0.3) or "
                "from its wheel, downloaded and verified by `snakemake --cores 1 qm9_fetch`"
            )
    csvs = [Path(p) for p in csvs]
    inputs_sha256 = _sha256s(csvs)
    if sorted(inputs_sha256) != sorted(QM9_CSV_SHA256):
        raise ValueError(
            f"QM9 needs the CSVs {sorted(QM9_CSV_SHA256)}, got {sorted(inputs_sha256)}"
        )
    for path in csvs:
        expected, actual = QM9_CSV_SHA256[path.name], inputs_sha256[path.name]
        if actual != expected:
            raise ChecksumError(
                f"{path.name} (from {path}): sha256 is {actual}, expected {expected}; the file is "
                "altered or is not qm9pack 1.0.3's"
            )
    log(f"QM9 CSVs verified against their pinned sha256: {inputs_sha256}")
    smiles, index = read_qm9_smiles(csvs)
    if len(smiles) != QM9_N_MOLECULES:
        log(f"warning: qm9pack's CSVs hold {len(smiles)} molecules, expected {QM9_N_MOLECULES}")
    return prepare_molecules(
        smiles,
        index,
        output,
        artefact="qm9",
        source=(
            "QM9 (130,831 molecules, no uncharacterized) from qm9pack 1.0.3's CSVs "
            f"{[p.name for p in csvs]} in {csvs[0].parent}, column SMILES"
        ),
        inputs_sha256=inputs_sha256,
        atoms=atoms,
        max_nodes=max_nodes,
        min_nodes=min_nodes,
        seed=seed,
        subset=subset,
        split={"train": train, "test": test},
        threads=threads,
        log=log,
    )


def prepare_moses(
    csv: str | os.PathLike | None,
    split: str,
    output: str | os.PathLike,
    *,
    seed: int,
    subset: int | None,
    atoms: Sequence[str] = MOSES_ATOMS,
    max_nodes: int = 27,
    min_nodes: int = 2,
    threads: int = 1,
    log: Callable[[str], object] = print,
) -> xr.Dataset:
    """One MOSES split from molsets' CSV (found automatically when ``csv`` is None)."""
    from initlab.data.registry import moses_csv_paths

    if csv is None:
        paths = moses_csv_paths()
        if paths is None:
            raise FileNotFoundError(
                "MOSES comes from the molsets package's CSVs: pip install --no-deps molsets==0.3.1"
            )
        csv = paths[split]
    csv = Path(csv)
    smiles = read_moses_smiles(csv)
    return prepare_molecules(
        smiles,
        np.arange(len(smiles)),
        output,
        artefact=f"moses/{split}",
        source=f"MOSES {split} split from molsets' {csv.name}, column SMILES",
        inputs_sha256=_sha256s([csv]),
        atoms=atoms,
        max_nodes=max_nodes,
        min_nodes=min_nodes,
        seed=seed,
        subset=subset,
        split=split,
        threads=threads,
        log=log,
    )
