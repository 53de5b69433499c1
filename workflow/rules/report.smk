# Stages every study shares: aggregate its run files, evaluate its claims, and the report.


localrules:
    aggregate,
    claims,
    report,


rule aggregate:
    input:
        runs=run_files,
        code=shared_sources("aggregate"),
    output:
        "results/{study}/{study}.nc",
    log:
        "results/{study}/logs/aggregate.log",
    benchmark:
        "results/{study}/bench/aggregate.tsv"
    conda:
        "../envs/initlab.yaml"
    script:
        "../../scripts/aggregate.py"


rule claims:
    input:
        data="results/{study}/{study}.nc",
        code=claims_sources,
    output:
        report(
            "results/{study}/claims.csv",
            caption="../report/claims.rst",
            category="{study}",
            subcategory="claims",
        ),
    log:
        "results/{study}/logs/claims.log",
    benchmark:
        "results/{study}/bench/claims.tsv"
    conda:
        "../envs/initlab.yaml"
    script:
        "../../scripts/claims.py"


rule report:
    input:
        claims=expand("results/{study}/claims.csv", study=ENABLED),
        data=expand("results/{study}/{study}.nc", study=ENABLED),
        figures=all_figures(),
        captions=all_captions(),
        benchmarks=all_benchmarks(),
        code=shared_sources("report"),
    output:
        html="results/report/index.html",
        claims=report(
            "results/report/claims.csv",
            caption="../report/all_claims.rst",
            category="summary",
        ),
    log:
        "results/report/report.log",
    conda:
        "../envs/initlab.yaml"
    params:
        studies=ENABLED,
        config=config,
    script:
        "../../scripts/report.py"
