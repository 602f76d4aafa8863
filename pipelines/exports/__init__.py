"""Exports of datasre's state to the tools SREs already run: Prometheus metrics, alert
rules (Prometheus and PrometheusRule) and OpenSLO documents. Pure text builders; the
``datasre export`` command (:mod:`pipelines.commands.export`) reads the store and writes."""
