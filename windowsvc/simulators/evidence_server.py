"""A shared-data (一证通办) service speaking the HTTP evidence protocol, for demos and tests."""

from flask import Flask, jsonify, request


def create_evidence_app(holders: dict, *, fail_with: int | None = None) -> Flask:
    """A Flask app answering ``POST /v1/evidence/lookup`` from ``holders`` (ID → holder)."""
    app = Flask("windowsvc-evidence-simulator")

    @app.post("/v1/evidence/lookup")
    def lookup():
        if fail_with:
            return jsonify(error="simulated outage"), fail_with
        body = request.get_json(silent=True) or {}
        holder = holders.get(body.get("id_number"))
        kind = body.get("kind")
        if holder is None or kind not in holder["holds"]:
            return jsonify(error="not held"), 404
        return jsonify(
            evidence_id=f"{kind}:{body['id_number']}",
            holder_name=holder["name"],
            issued_by="浙江省公共数据平台 (模拟)",
        )

    @app.post("/v1/credit/lookup")
    def credit():
        if fail_with:
            return jsonify(error="simulated outage"), fail_with
        holder = holders.get((request.get_json(silent=True) or {}).get("id_number")) or {}
        return jsonify(untrustworthy=bool(holder.get("untrustworthy")))

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    return app
