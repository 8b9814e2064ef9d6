"""Numbers reported by the original study, shown beside ours and always labelled as reported.

Two public write-ups: "page" is the project page this product is modelled on,
"audit" is the author's later re-run (classifiers retrained on CPU). None marks
a number the source did not give.
"""

REPORTED = {
    "CNN-1": {"page_accuracy": 0.98, "audit_accuracy": 0.9805, "audit_cpu_minutes": 11.1,
              "page_note": "baseline time"},
    "CNN-2": {"page_accuracy": 0.986, "audit_accuracy": 0.9866, "audit_cpu_minutes": 22.9,
              "page_note": "best; +60% time; overfits from about epoch 40"},
    "CNN-3": {"page_accuracy": 0.98, "audit_accuracy": 0.9830, "audit_cpu_minutes": 12.1,
              "page_note": "+10% time; overfits from about epoch 15"},
    "FCNN-1": {"page_accuracy": 0.96, "audit_accuracy": 0.7917, "audit_cpu_minutes": None,
               "page_note": "about 96%; slower convergence"},
    "FCNN-2": {"page_accuracy": 0.97, "audit_accuracy": 0.9062, "audit_cpu_minutes": None,
               "page_note": "about 97%"},
    "FCNN-3": {"page_accuracy": 0.975, "audit_accuracy": 0.9460, "audit_cpu_minutes": None,
               "page_note": "about 97.5%; best FCNN"},
    "FCNN-4": {"page_accuracy": 0.97, "audit_accuracy": 0.7890, "audit_cpu_minutes": None,
               "page_note": "about 97%; overfits from about epoch 20"},
    "CVAE-1": {"page_silhouette": 0.15, "audit_silhouette_median": -0.01,
               "page_note": "only 0, 1, 3, 7 and 9 separate"},
    "CVAE-2": {"page_silhouette": None, "audit_silhouette_median": -0.06,
               "page_note": "similar to CVAE-1"},
    "CVAE-3": {"page_silhouette": None, "audit_silhouette_median": -0.07,
               "page_note": "slight improvement (5 appears)"},
    "CVAE-4": {"page_silhouette": None, "audit_silhouette_median": 0.01,
               "page_note": "moderate improvement"},
    "CVAE-5": {"page_silhouette": None, "audit_silhouette_median": -0.06,
               "page_note": "moderate improvement"},
    "DCGAN-1": {"audit_frechet_distance": 1846.67,
                "page_note": "poor: only 0 and 9 recognisable; D plateaus, G loss rises"},
    "DCGAN-2": {"audit_frechet_distance": 12.38,
                "page_note": "most digits recognisable; losses oscillate healthily"},
    "DCGAN-3": {"audit_frechet_distance": 8.80,
                "page_note": "all 10 digits recognisable; about 10% more time"},
    "DCGAN-4": {"audit_frechet_distance": 3.23,
                "page_note": "best quality at 100 epochs; about 40% more time"},
    "DCGAN-5": {"audit_frechet_distance": 2.29, "audit_gpu_minutes": 113,
                "page_note": "added in the later write-up; about 113 min on a laptop GPU"},
}

# The audit's Fréchet distances use the author's own CNN-3 features, so their scale
# differs from ours: compare rankings, not values.
FRECHET_NOTE = ("Reported Fréchet distances were measured in the features of the study's own CNN-3, "
                "so only their ranking is comparable with ours.")
