"""quality package: the quality gate between cleaning and publication (Great Expectations 1.x).

quality.spec       the spec's `quality` section (QualitySpec), derived expectations,
                   validate_quality_section(spec) -> problems naming the field
quality.validate   validate_clean(spec, settings, lake, pull_id) -> QualityResult
quality.result     QualityResult, ExpectationOutcome, the score and coverage definitions
quality.plausibility  automatic checks by column meaning (coordinates, admin codes, dates, %)
quality.drift      the profile of a table; drift against the published version (citydata_drift)
quality.non_gx     the hook for checks that are not GX expectations (CheckInput, CHECKS)
quality.reports    lake keys of reports / quarantine, last_report(lake, spec)
quality.suggest    expectations profiled from cleaned data (`citydata quality suggest`)
quality._gx        the only module importing great_expectations (analytics off)
"""
