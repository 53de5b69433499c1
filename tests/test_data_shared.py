"""A prepared artefact is computed once however many studies and points read it (issue #3): checked
with Snakemake dry runs in a fresh copy of the checkout, where nothing is built yet.

Studies name the artefacts a point reads in their ``data`` setting; ``point_data`` (common.smk)
makes ``data/prepared/<name>.nc`` an input of that point's run job. The dry run lists every job
with its inputs and outputs; the tests follow the inputs back to the data stages and count the
jobs that build each prepared file.
"""

import re
from collections import defaultdict

import pytest

from conftest import copy_checkout, snakemake

PREPARED = re.compile(r"^data/prepared/.+\.nc$")


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return copy_checkout(tmp_path_factory.mktemp("checkout"))


def dry_run(repo, *args) -> list[dict]:
    """``snakemake -n <args>`` parsed into jobs: ``{"rule", "input": [...], "output": [...]}``."""
    proc = snakemake("-n", "--cores", "1", *args, cwd=repo)
    jobs, job = [], None
    for line in proc.stdout.splitlines():
        if m := re.match(r"^(?:local)?rule (\w+):$", line):
            job = {"rule": m.group(1), "input": [], "output": []}
            jobs.append(job)
        elif job is not None and (m := re.match(r"^    (input|output): (.*)$", line)):
            job[m.group(1)] = [p.strip() for p in m.group(2).split(",") if p.strip()]
        elif not line.strip():
            job = None
    assert jobs, f"no jobs in the dry run:\n{proc.stdout[-3000:]}"
    return jobs


def producers(jobs) -> dict[str, list[dict]]:
    """Every output file -> the jobs that would write it."""
    made = defaultdict(list)
    for job in jobs:
        for path in job["output"]:
            made[path].append(job)
    return made


def upstream(job, made) -> set[str]:
    """Every file the job needs, directly or through the jobs that build its inputs."""
    seen, stack = set(), list(job["input"])
    while stack:
        path = stack.pop()
        if path not in seen:
            seen.add(path)
            for parent in made.get(path, []):
                stack.extend(parent["input"])
    return seen


def test_two_artefacts_of_one_split_share_its_prepare_and_fetch_jobs(repo):
    """PCA and whitened features of the 10k split both need mnist/test.nc: built by one job,
    from one fetch job per IDX file."""
    targets = ["data/prepared/mnist/test_pca50_all.nc", "data/prepared/mnist/test_white10_all.nc"]
    jobs = dry_run(repo, *targets)
    made = producers(jobs)
    assert all(len(made[t]) == 1 and made[t][0]["rule"] == "mnist_features" for t in targets)
    assert all("data/prepared/mnist/test.nc" in made[t][0]["input"] for t in targets)
    assert [j["rule"] for j in made["data/prepared/mnist/test.nc"]] == ["mnist_prepare"]
    fetches = [j for j in jobs if j["rule"] == "mnist_fetch"]
    assert sorted(o for j in fetches for o in j["output"]) == [
        "data/raw/mnist/t10k-images-idx3-ubyte.gz",
        "data/raw/mnist/t10k-labels-idx1-ubyte.gz",
    ]
    assert len(jobs) == 5  # 2 fetch + 1 prepare + 2 features: nothing built twice


@pytest.fixture(scope="module", params=["quick", "paper"])
def readers(request, repo):
    """The whole DAG of a scale: ``(scale, made, {prepared file: run jobs that need it})``,
    directly or through an artefact derived from it (features read their subset's file)."""
    scale = request.param
    jobs = dry_run(repo, *(["--configfile", "configs/paper.yaml"] if scale == "paper" else []))
    made = producers(jobs)
    reads = defaultdict(list)
    for job in jobs:
        if job["rule"].endswith("_run"):
            for path in upstream(job, made):
                if PREPARED.match(path):
                    reads[path].append(job)
    return scale, made, reads


def assert_built_once(path, made, readers):
    builders = made[path]
    assert len(builders) == 1, f"{path} (read by {readers}) is built by {len(builders)} jobs"
    for raw in upstream(builders[0], made):
        assert len(made.get(raw, [])) <= 1, f"{raw} (upstream of {path}) is built more than once"


def test_points_that_read_one_prepared_file_share_the_job_that_builds_it(readers):
    scale, made, reads = readers
    shared = {path: jobs for path, jobs in reads.items() if len(jobs) >= 2}
    assert shared, f"at {scale} scale no prepared file is read by two run jobs"
    for path, jobs in shared.items():
        assert_built_once(path, made, [j["output"][0] for j in jobs])


def test_studies_that_read_one_prepared_file_share_the_job_that_builds_it(readers):
    """Two studies naming artefacts that derive from one prepared file (say mnist/test and
    mnist/test_pca50_all): the file is built by one job that both studies' runs wait for."""
    scale, made, reads = readers
    studies = {
        path: sorted({j["rule"].removesuffix("_run") for j in jobs}) for path, jobs in reads.items()
    }
    shared = {path: s for path, s in studies.items() if len(s) >= 2}
    # manifold_gmm and distributed_clustering both read MNIST (10k quick, 70k paper scale).
    assert shared, f"at {scale} scale no prepared file is read by two studies (readers: {studies})"
    for path, names in shared.items():
        assert_built_once(path, made, names)
    print(f"{scale}: prepared files shared by studies {shared}")
