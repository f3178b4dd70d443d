import numpy as np, warnings
warnings.simplefilter("ignore")
from glassnet import MatNetClassifier, MatNetRegressor
from sklearn.base import clone
from sklearn.model_selection import cross_val_score, GridSearchCV
import pandas as pd
rng=np.random.default_rng(0)
def T(name, f):
    try:
        r=f(); print("OK ", name, "->", r)
    except Exception as e:
        print("ERR", name, type(e).__name__, str(e)[:300])
fast=dict(hidden_shapes=[(3,3)], max_epochs=3, batch_size=None, random_state=0)
X=rng.standard_normal((40,3,3)); y=rng.integers(0,3,40)
T("cv 3d", lambda: cross_val_score(MatNetClassifier(**fast), X, y, cv=2))
T("grid 3d", lambda: GridSearchCV(MatNetClassifier(**fast), {"lam":[0.0,1e-3]}, cv=2).fit(X,y).best_params_)
T("grid hidden", lambda: GridSearchCV(MatNetClassifier(max_epochs=2), {"hidden_shapes":[[(2,2)],[(3,3)]]}, cv=2).fit(X,y).best_params_)
c=MatNetClassifier(**fast).fit(X,y)
T("n_features_in_", lambda: (c.n_features_in_, c.input_shape_, hasattr(c,"feature_names_in_")))
T("predict proba cols", lambda: c.predict_proba(X).shape)
T("predict single sample 3d", lambda: c.predict(X[:1]))
T("predict single 2d matrix", lambda: c.predict(X[0]))
T("predict empty", lambda: c.predict(X[:0]))
T("predict nan", lambda: c.predict(np.where(np.arange(9).reshape(1,3,3)==0, np.nan, X[:1])))
T("predict list rows", lambda: c.predict(X.reshape(40,9)[:2].tolist()))
T("hidden_activations nan", lambda: c.hidden_activations(np.full((1,3,3),np.nan)))
T("hidden_activations shape", lambda: [h.shape for h in c.hidden_activations(X)])
T("hidden_activations dtype f32 vs predict", lambda: c.hidden_activations(X)[0].dtype)
T("score string y", lambda: MatNetClassifier(**fast).fit(X,np.array(["x","y","z"])[y]).score(X,np.array(["x","y","z"])[y]))
# warm start w/ string classes reorder
def warm():
    e=MatNetClassifier(warm_start=True, **fast)
    e.fit(X, np.array(["a","b","c"])[y]); m1=e.module_
    e.fit(X, np.array(["a","b","c"])[y]); return e.module_ is m1, e.n_iter_
T("warm", warm)
def warm2():  # same number of classes but different labels
    e=MatNetClassifier(warm_start=True, **fast)
    e.fit(X, y); w=e.module_.out.weight.detach().clone()
    e.fit(X, y+1); return torch.equal(w, e.module_.out.weight)
import torch
T("warm other labels -> cold?", warm2)
def warm3():  # warm start after a fit with lam auto then set_params lam fixed
    e=MatNetClassifier(warm_start=True, hidden_shapes=[(3,3)], max_epochs=3, random_state=0)
    e.fit(X,y); s=e.lam_scores_
    e.set_params(lam=0.5); e.fit(X,y); return e.lam_, e.lam_scores_==s
T("warm lam change", warm3)
# refit from 3d to rows with names (feature_names_in_ should be dropped)
def names():
    e=MatNetClassifier(**fast)
    df=pd.DataFrame(X.reshape(40,9), columns=list("abcdefghi"))
    e.fit(df,y); e.fit(X,y); return hasattr(e,"feature_names_in_"), e.predict(X[:2])
T("names then 3d refit", names)
def names2():
    e=MatNetClassifier(**fast)
    df=pd.DataFrame(X.reshape(40,9), columns=list("abcdefghi"))
    e.fit(df,y); return e.predict(X[:2])  # 3d after DataFrame fit
T("fit df predict 3d", names2)
def names3():
    e=MatNetClassifier(**fast)
    df=pd.DataFrame(X.reshape(40,9), columns=list("abcdefghi"))
    e.fit(X,y); return e.predict(df[:2])
T("fit 3d predict df", names3)
# regressor y standardisation with constant column
def const_col():
    Y=np.c_[rng.standard_normal(40), np.full(40,3.0)]
    return MatNetRegressor(**fast).fit(X,Y).predict(X[:3])
T("reg const col", const_col)
# classifier with 2 classes decision_function sign agrees with predict
def dfsign():
    e=MatNetClassifier(**fast).fit(X,y%2)
    return np.array_equal((e.decision_function(X)>0).astype(int), e.predict(X))
T("decision sign", dfsign)
# score with sample_weight
T("score sw", lambda: c.score(X,y,sample_weight=np.ones(40)))
# tags
T("tags", lambda: (c.__sklearn_tags__().input_tags.three_d_array if hasattr(c.__sklearn_tags__().input_tags,'three_d_array') else None, c.__sklearn_tags__().input_tags.two_d_array))
