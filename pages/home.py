"""Home: the big picture in plain words, results at a glance, and where to go next.

This page reads only ``manifest.json`` and run records with plain ``json``, so it
paints before TensorFlow is imported.
"""

import streamlit as st

from pages import ui

ui.sidebar()

st.title("How a computer learns to read and write digits")
st.markdown(
    "Everyone writes a 7 a little differently, yet we read each other's handwriting without "
    "effort. This app shows how small **neural networks** learn to do the same from 60,000 "
    "examples of handwritten digits, and how other networks learn to **write new digits** "
    "that nobody drew. Every model here was really trained, and you can poke at all of them."
)

recognise_column, create_column = st.columns(2)
with recognise_column:
    st.subheader(":material/visibility: Recognising")
    st.markdown(
        "A *classifier* looks at a 28×28 grid of grey pixels and answers *which digit is this?*. "
        "It starts out guessing at random. Each time it is wrong, its tiny dials (tens or hundreds "
        "of thousands of them, called parameters) are nudged so the right answer becomes a bit more likely. After seeing the training images a "
        "few times it reads digits it has never seen, and we measure that on 10,000 test digits "
        "kept aside for exactly this."
    )
with create_column:
    st.subheader(":material/auto_awesome: Creating")
    st.markdown(
        "A *generator* works the other way round: it turns a handful of random numbers into a "
        "picture. A **variational autoencoder** learns to squeeze every digit into just two numbers "
        "and to redraw it from them, so each point on a 2-D map becomes a digit. A **generative "
        "adversarial network** trains a forger against a critic until the forger's digits are hard "
        "to tell from real ones."
    )

with st.expander("The technical version", icon=":material/science:"):
    st.markdown(
        "- Data: MNIST, 60,000 training and 10,000 test images of 28×28 pixels. 6,000 training "
        "images are held out (stratified by digit) to pick the best epoch by validation loss.\n"
        "- Classifiers: 7 convolutional networks (CNN-1..3 end in dense layers, FCNN-1..4 use "
        "global average pooling instead), trained with Adam on cross-entropy.\n"
        "- Convolutional variational autoencoders (CVAE-1..5) with a 2-D latent space, trained on "
        "binary cross-entropy plus the KL divergence to a standard normal prior.\n"
        "- Deep convolutional GANs (DCGAN-1..5) with a 100-D latent vector.\n"
        "- The variants and the numbers they are compared with come from a public study; its "
        "numbers are always labelled *reported by the original study*."
    )

# Results at a glance, from the manifest.
st.header("Results at a glance")
try:
    manifest = ui.read_manifest()
except ui.GalleryError as error:
    ui.show_gallery_error(error, "the pretrained results")
    manifest = None


def best_variant(variants, family, metric):
    scores = {name: entry.get("metrics", {}).get(metric) for name, entry in variants.items()
              if entry.get("family") == family}
    scores = {name: score for name, score in scores.items() if score is not None}
    if not scores:
        return None, None
    name = max(scores, key=scores.get)
    return name, scores[name]


def best_reported(variants, family, key):
    scores = {name: entry.get("reported", {}).get(key) for name, entry in variants.items()
              if entry.get("family") == family}
    scores = {name: score for name, score in scores.items() if score is not None}
    if not scores:
        return None, None
    name = max(scores, key=scores.get)
    return name, scores[name]


if manifest is not None:
    variants = manifest["variants"]
    reader_column, map_column, forger_column = st.columns(3)

    with reader_column, st.container(border=True):
        name, accuracy = best_variant(variants, "classifier", "test_accuracy")
        if name is None:
            st.info("No classifier in the gallery yet.")
        else:
            st.metric("Best digit reader: test accuracy", ui.percent(accuracy), help=(
                "The share of the 10,000 test digits the classifier reads correctly. "
                "A random guess scores 10%."))
            st.markdown(f"**{name}** read {round(accuracy * 10000):,} of 10,000 unseen digits correctly.")
            audit_name, audit = best_reported(variants, "classifier", "audit_accuracy")
            page_name, page = best_reported(variants, "classifier", "page_accuracy")
            st.caption(f"Reported by the original study: {ui.percent(audit)} ({audit_name}, re-run) "
                       f"and {ui.percent(page, 1)} ({page_name}, project page).")
            st.page_link("pages/recognise.py", label="Compare all 7 readers", icon=":material/arrow_forward:")

    with map_column, st.container(border=True):
        name, silhouette = best_variant(variants, "cvae", "silhouette_median")
        if name is None:
            st.info("No variational autoencoder in the gallery yet.")
        else:
            mean = variants[name]["metrics"].get("silhouette_mean")
            st.metric("Tidiest digit map: silhouette", ui.number(silhouette, 3), help=(
                "How well the digits form separate groups on the 2-D map, from -1 (mixed up) "
                "through 0 (overlapping) to 1 (cleanly apart). Median over 5,000 test digits, "
                "as in the study's re-run."))
            st.markdown(f"**{name}** (mean {ui.number(mean, 3)}) keeps each digit's points "
                        "together best of the five autoencoders.")
            page_name, page = best_reported(variants, "cvae", "page_silhouette")
            audit_name, audit = best_reported(variants, "cvae", "audit_silhouette_median")
            st.caption(f"Reported by the original study: about {ui.number(page)} ({page_name}, "
                       f"project page) and a best median of {ui.number(audit)} ({audit_name}, re-run).")
            st.page_link("pages/latent_space.py", label="Explore the map", icon=":material/arrow_forward:")

    with forger_column, st.container(border=True):
        name, score = best_variant(variants, "dcgan", "inception_score")
        if name is None:
            st.info("No GAN in the gallery yet, or its quality could not be scored.")
        else:
            st.metric("Best forger: Inception score", ui.number(score), help=(
                "Measured with our best classifier: high when each generated digit is clearly one "
                "digit and all ten digits appear. Real test digits score about 9.9; 10 is the maximum."))
            share = variants[name]["metrics"].get("confident_share")
            st.markdown(f"**{name}**: {ui.percent(share, 0)} of its digits are read with at "
                        "least 90% confidence.")
            frechet_name, _ = min(((gan, entry["reported"]["audit_frechet_distance"])
                                   for gan, entry in variants.items()
                                   if entry.get("reported", {}).get("audit_frechet_distance")),
                                  key=lambda pair: pair[1], default=(None, None))
            st.caption("Reported by the original study: no Inception score; its best Fréchet "
                       f"distance was {frechet_name}'s, measured in other features.")
            st.page_link("pages/create.py", label="Watch the forgers", icon=":material/arrow_forward:")

    devices = sorted({entry.get("device", "?") for entry in variants.values()})
    st.caption(f"Measured by this project: `{manifest.get('recipe', '?')}` recipe on "
               f"{', '.join(devices)}; gallery updated {manifest.get('updated_at', '?')}.")
    highlighted = [best_variant(variants, family, metric)[0] for family, metric in
                   (("classifier", "test_accuracy"), ("cvae", "silhouette_median"),
                    ("dcgan", "inception_score"))]
    ui.provenance_expander([name for name in highlighted if name])

# Where to go next.
st.header("Where to go next")
links = [
    ("pages/recognise.py", "Recognise", ":material/visibility:",
     "How accurate and how fast are the 7 readers, and which digits fool them?"),
    ("pages/draw.py", "Draw", ":material/draw:",
     "Write a digit with your mouse and see what every reader makes of it."),
    ("pages/latent_space.py", "Latent space", ":material/scatter_plot:",
     "Walk across a 2-D map of all digits and watch one morph into another."),
    ("pages/create.py", "Create", ":material/auto_awesome:",
     "Ask the forgers for new digits, and watch them learn epoch by epoch."),
    ("pages/train.py", "Train", ":material/model_training:",
     "Train a model yourself, live, and compare it with the pretrained one."),
]
for path, label, icon, description in links:
    link_column, text_column = st.columns([1, 4], vertical_alignment="center")
    with link_column:
        st.page_link(path, label=label, icon=icon)
    with text_column:
        st.markdown(description)

st.divider()
st.caption(f"{ui.MNIST_CREDIT} Reported numbers come from the public write-ups of the study "
           "this app's model variants are taken from.")
