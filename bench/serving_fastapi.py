"""FastAPI + uvicorn + scikit-learn peer of bench/serving: the same work as `cellar serve` for a batch-1
MLflow `dataframe_records` request — parse JSON, check the columns, build the feature matrix, ElasticNet.predict,
answer {"predictions": [...]}. The model is fitted here with scikit-learn on the same training rows (CSV) with the
same parameters, so both servers hold the same model.

Usage: /usr/bin/python3 bench/serving_fastapi.py train.csv PORT
"""
import sys

import numpy as np
import uvicorn
from fastapi import FastAPI, HTTPException, Request
from sklearn.linear_model import ElasticNet

train_csv, port = sys.argv[1], int(sys.argv[2])
data = np.genfromtxt(train_csv, delimiter=",", names=True)
features = [n for n in data.dtype.names if n != "y"]
X = np.column_stack([data[n] for n in features])
model = ElasticNet(alpha=0.01, l1_ratio=0.1).fit(X, data["y"])
app = FastAPI()


@app.get("/ping")
async def ping():
    return {"status": "ok"}


@app.post("/invocations")
async def invocations(request: Request):
    body = await request.json()
    rows = body.get("dataframe_records") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not rows:
        raise HTTPException(status_code=400, detail="dataframe_records must be a non-empty list")
    try:
        X = np.array([[float(r[f]) for f in features] for r in rows], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as e:
        raise HTTPException(status_code=400, detail=f"bad row: {e}")
    return {"predictions": model.predict(X).tolist()}


uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
