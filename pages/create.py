"""Create: digits invented by the five GANs, how they learned, and how good their forgeries are."""

import time

import numpy as np
import pandas as pd
import streamlit as st

from pages import charts, imaging, ui

NUM_SAMPLES = 100
MAX_SEED = 2**31 - 1
CONFIDENCE_THRESHOLD = 0.9
MAKE_BATCH_SIZE = 200
MAKE_MAX_TRIES = 2000
MAKE_MAX_KEPT = 30

ui.sidebar()

st.title("Create: networks that invent digits")
st.markdown(
    "A **generative adversarial network** (GAN) is two networks playing a game. The *forger* "
    "(generator) turns 100 random numbers into an image. The *critic* (discriminator) sees real "
    "digits and forgeries and learns to tell them apart. The forger is rewarded for fooling the "
    "critic, so as both improve, the forgeries start to look like handwriting. Nobody ever tells "
    "the forger what a 3 looks like."
)

try:
    manifest = ui.read_manifest()
except ui.GalleryError as error:
    ui.show_gallery_error(error, "the GANs")
    st.stop()
dcgans = [name for name in ui.DCGANS if name in manifest["variants"]]
if not dcgans:
    st.info("The gallery has no GAN yet. Train them with: `python -m digitcore reproduce --family dcgan`")
    st.stop()

if st.session_state.get("create_variant") not in dcgans:
    st.session_state["create_variant"] = dcgans[0]
variant = st.segmented_control("GAN", dcgans, required=True, key="create_variant")
st.caption(f"{variant}: {manifest['variants'][variant].get('summary', '')}")


def generate(variant_name, num_images, seed, pixel_range):
    """Return ``num_images`` samples in [0, 1], shaped (n, 28, 28, 1), from latents drawn with ``seed``."""
    forward = ui.forward_function(variant_name, "generator")
    latent_dim = int(ui.load_model(variant_name).latent_dim)
    latents = np.random.default_rng(seed).normal(size=(num_images, latent_dim)).astype(np.float32)
    images = np.asarray(forward(latents), dtype=np.float32)
    if tuple(pixel_range) == (-1, 1):
        images = (images + 1.0) / 2.0
    return np.clip(images, 0.0, 1.0)


def _new_seed():
    st.session_state["create_seed"] = int(np.random.default_rng().integers(0, MAX_SEED))


try:
    record = ui.read_variant_json(variant, "run.json")
    pixel_range = tuple(record["recipe"]["pixel_range"])
    ui.forward_function(variant, "generator")
except (ui.GalleryError, KeyError, TypeError) as error:
    ui.show_gallery_error(error, f"the generator of {variant}")
    record = None

# 1. Fresh samples.
st.header("Fresh digits")
if record is not None:
    seed_column, button_column, _ = st.columns([2, 2, 5], vertical_alignment="bottom")
    st.session_state.setdefault("create_seed", 0)
    seed_column.number_input("Seed", 0, MAX_SEED, step=1, key="create_seed",
                             help="The seed fixes the 100 random numbers behind each sample, so the "
                                  "same seed gives the same digits again.")
    button_column.button("New samples", icon=":material/casino:", on_click=_new_seed, width="stretch")
    seed = int(st.session_state["create_seed"])
    started = time.perf_counter()
    samples = generate(variant, NUM_SAMPLES, seed, pixel_range)
    generate_ms = (time.perf_counter() - started) * 1000.0
    st.image(imaging.grid(samples, num_columns=20, scale=2), width="stretch")
    st.caption(f"{NUM_SAMPLES} samples of {variant} with seed {seed}, generated in {generate_ms:.0f} ms "
               "on this server. None of them is a copy of a training image: each is drawn from its own "
               "random numbers.")

# 2. The training scrubber.
st.header("Watch it learn")
st.markdown("The same 64 random inputs, drawn by the forger after each epoch of training. Early on "
            "it paints blobs; later, strokes and whole digits appear.")
try:
    samples_file = ui.read_variant_npz(variant, "samples.npz")
    grids, epochs = samples_file["grids"], samples_file["epochs"]
except (ui.GalleryError, KeyError) as error:
    ui.show_gallery_error(error, f"the training snapshots of {variant}")
else:
    if len(epochs) > 1:
        epoch = st.select_slider("After epoch", options=[int(value) for value in epochs],
                                 value=int(epochs[-1]), key=f"create_epoch_{variant}")
    else:
        epoch = int(epochs[0])
        st.caption("This model was trained for a single epoch, so there is one snapshot.")
    index = int(np.flatnonzero(epochs == epoch)[0])
    st.image(imaging.grid(grids[index], num_columns=16, scale=2), width="stretch",
             caption=f"{variant} after epoch {epoch} of {len(epochs)}")

# 3. Loss curves.
st.header("The game, in numbers")
st.markdown(
    "The critic's loss falls when it spots forgeries; the forger's loss falls when it fools the "
    "critic. In a healthy game neither wins for long, so both curves wobble. If the critic's loss "
    "sinks towards 0 while the forger's climbs, the critic has won and the forger stops learning."
)
try:
    history = pd.DataFrame(ui.read_variant_json(variant, "history.json")["epochs"])
except (ui.GalleryError, KeyError, TypeError) as error:
    ui.show_gallery_error(error, f"the loss curves of {variant}")
else:
    names = {"d_loss": "critic (discriminator) loss", "g_loss": "forger (generator) loss",
             "d_real": "critic's score on real digits", "d_fake": "critic's score on forgeries"}
    loss_frame = history.melt(id_vars="epoch", value_vars=[key for key in ("d_loss", "g_loss") if key in history],
                              var_name="series", value_name="value").replace({"series": names})
    st.altair_chart(charts.line_per_epoch(loss_frame, "Loss"), width="stretch")
    with st.expander("The critic's average scores", icon=":material/tune:"):
        score_keys = [key for key in ("d_real", "d_fake") if key in history]
        if score_keys:
            score_frame = history.melt(id_vars="epoch", value_vars=score_keys, var_name="series",
                                       value_name="value").replace({"series": names})
            st.altair_chart(charts.line_per_epoch(score_frame, "Mean critic output (1 = real)"),
                            width="stretch")
        st.markdown("Losses are binary cross-entropy averaged over each epoch's batches; the critic's "
                    "output is its probability that an image is real.")

# 4. Quality of the forgeries.
st.header("How good are the forgeries?")
metrics = manifest["variants"][variant].get("metrics", {})
reference = metrics.get("reference_classifier") or manifest.get("reference_classifier")
if metrics.get("inception_score") is None:
    st.info(f"{variant} has not been scored: the gallery had no reference classifier when it was trained.")
else:
    st.markdown(
        f"Our best classifier, {reference}, reads {metrics.get('num_samples', 0):,} samples of each GAN. "
        "Good forgeries are read confidently, and all ten digits appear about equally often."
    )
    columns = st.columns(4)
    columns[0].metric("Read with ≥ 90% confidence", ui.percent(metrics.get("confident_share"), 0),
                      help="The share of samples the classifier reads with at least 90% confidence.")
    columns[1].metric("Inception score", ui.number(metrics.get("inception_score")),
                      help="From 1 to 10: high when each sample is clearly one digit and all ten digits "
                           "appear. Real test digits score about 9.9.")
    columns[2].metric("Fréchet distance", ui.number(metrics.get("frechet_distance")),
                      help="How far the forgeries' features are from the real test digits' features. "
                           "Lower is better; 0 means identical statistics.")
    columns[3].metric("Real-vs-real floor", ui.number(metrics.get("frechet_floor")),
                      help="The Fréchet distance between 10,000 real training and the 10,000 real test "
                           "digits: the best a forger can hope for with this many samples.")
    histogram = metrics.get("class_histogram") or []
    if len(histogram) == 10:
        st.markdown("**Which digits does it draw?** A forger that draws only a few digits has "
                    "*collapsed*: this bar chart shows it.")
        frame = pd.DataFrame({"digit": [str(digit) for digit in range(10)], "count": histogram})
        st.altair_chart(charts.digit_histogram(frame), width="stretch")
        st.caption(f"Confident samples per digit. The most common digit takes "
                   f"{ui.percent(metrics.get('largest_class_share'), 0)} of them; 10% would be even.")

comparison = []
for name in dcgans:
    entry_metrics = manifest["variants"][name].get("metrics", {})
    comparison.append({
        "Variant": name,
        "Ours: Fréchet distance": entry_metrics.get("frechet_distance"),
        "Ours: Inception score": entry_metrics.get("inception_score"),
        "Ours: confident share": entry_metrics.get("confident_share"),
        "Reported: Fréchet distance": manifest["variants"][name].get("reported", {}).get("audit_frechet_distance"),
        "Reported: remark": manifest["variants"][name].get("reported", {}).get("page_note", ""),
    })
comparison = pd.DataFrame(comparison)
comparison.insert(2, "Our rank", comparison["Ours: Fréchet distance"].rank(method="min").astype("Int64"))
comparison.insert(6, "Reported rank", comparison["Reported: Fréchet distance"].rank(method="min").astype("Int64"))
st.dataframe(comparison, hide_index=True, width="stretch", column_config={
    "Ours: Fréchet distance": st.column_config.NumberColumn(format="%.2f"),
    "Ours: Inception score": st.column_config.NumberColumn(format="%.2f"),
    "Ours: confident share": st.column_config.NumberColumn(format="percent"),
    "Reported: Fréchet distance": st.column_config.NumberColumn(format="%.2f"),
})
st.caption(f"{manifest.get('frechet_note', '')} Columns marked *Reported* are {ui.REPORTED_LABEL}; "
           "ranks go from 1 (closest to real digits) upwards.")

# 5. Make me a digit.
st.header("Make me a 7 (or any digit)")
st.markdown("Pick a digit. The forger draws batches of new samples, and our best classifier keeps only "
            f"those it reads as your digit with at least {CONFIDENCE_THRESHOLD:.0%} confidence.")


def make_digit(variant_name, digit, seed, pixel_range, reference_name):
    """Return (accepted images, their confidences, tries) for samples read as ``digit``."""
    classify = ui.forward_function(reference_name)
    accepted, confidences, tries = [], [], 0
    rng = np.random.default_rng(seed)
    while tries < MAKE_MAX_TRIES and len(accepted) < MAKE_MAX_KEPT:
        images = generate(variant_name, MAKE_BATCH_SIZE, int(rng.integers(0, MAX_SEED)), pixel_range)
        probabilities = np.asarray(classify(images))
        tries += len(images)
        matches = (probabilities.argmax(axis=1) == digit) & (probabilities.max(axis=1) >= CONFIDENCE_THRESHOLD)
        accepted.extend(images[matches])
        confidences.extend(probabilities[matches, digit])
    return np.array(accepted[:MAKE_MAX_KEPT]), np.array(confidences[:MAKE_MAX_KEPT]), tries


digit_column, make_column, _ = st.columns([2, 2, 5], vertical_alignment="bottom")
requested_digit = digit_column.selectbox("Digit", range(10), index=7, key="create_make_digit")
clicked = make_column.button(f"Make me a {requested_digit}", icon=":material/magic_button:", width="stretch",
                             disabled=record is None or reference is None)
if reference is None:
    st.info("No reference classifier is named in the gallery manifest, so no digit can be picked out.")
elif clicked:
    make_seed = int(np.random.default_rng().integers(0, MAX_SEED))
    try:
        with st.spinner(f"Drawing up to {MAKE_MAX_TRIES:,} samples…"):
            accepted, confidences, tries = make_digit(variant, requested_digit, make_seed, pixel_range, reference)
    except ui.GalleryError as error:
        ui.show_gallery_error(error, f"the reference classifier {reference}")
    else:
        st.session_state["create_made"] = {"variant": variant, "digit": requested_digit, "seed": make_seed,
                                           "accepted": accepted, "confidences": confidences, "tries": tries}
made = st.session_state.get("create_made")  # the last "make me a digit" result
if made and made["variant"] == variant and made["digit"] == requested_digit:
    if len(made["accepted"]) == 0:
        st.warning(f"None of {made['tries']:,} samples of {variant} was read as a {requested_digit} with "
                   f"at least {CONFIDENCE_THRESHOLD:.0%} confidence (seed {made['seed']}). This forger may "
                   "not draw that digit well: try another GAN or click again.")
    else:
        st.image(imaging.grid(made["accepted"], num_columns=15, scale=2), width="stretch")
        st.caption(f"Kept {len(made['accepted'])} of {made['tries']:,} samples (seed {made['seed']}) that "
                   f"{reference} reads as a {requested_digit}, with confidence from "
                   f"{made['confidences'].min():.0%} to {made['confidences'].max():.0%}.")

ui.provenance_expander(dcgans)
