"""Install with `pip install -e .` (`pip install -e ".[test]"` for the test suite, `".[web]"`
for the dcgan-web page)."""

import os

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def requirements():
    with open(os.path.join(HERE, "requirements.txt")) as f:
        return [line.split("#")[0].strip() for line in f if line.split("#")[0].strip()]


setup(
    name="dcgan-completion",
    version="0.1.0",
    description="Semantic face-image completion with a DCGAN prior (Yeh et al. 2016), in TensorFlow 2",
    long_description=open(os.path.join(HERE, "README.md")).read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["dcgan_completion", "dcgan_completion.*"]),
    include_package_data=True,
    package_data={"dcgan_completion": ["assets/*", "models/*", "web/page.html"]},
    install_requires=requirements(),
    # web: dcgan-web's server (Flask); the tests need it too, so that they test the page.
    # playwright drives the system Chromium in tests/test_web_browser.py (it downloads no browser).
    extras_require={"web": ["flask>=3"], "test": ["pytest>=7", "flask>=3", "playwright>=1.40"]},
    entry_points={
        "console_scripts": [
            "dcgan-train=dcgan_completion.cli.train:main",
            "dcgan-export=dcgan_completion.cli.export:main",
            "dcgan-complete=dcgan_completion.cli.complete:main",
            "dcgan-evaluate=dcgan_completion.cli.evaluate:main",
            "dcgan-plot-losses=dcgan_completion.cli.plot_losses:main",
            "dcgan-align=dcgan_completion.cli.align:main",
            "dcgan-make-gif=dcgan_completion.cli.make_gif:main",
            "dcgan-distributions=dcgan_completion.cli.distributions:main",
            "dcgan-demo=dcgan_completion.cli.demo:main",
            "dcgan-train-completion=dcgan_completion.cli.train_completion:main",
            "dcgan-web=dcgan_completion.cli.web:main",
            "dcgan-train-encoder=dcgan_completion.cli.train_encoder:main",
        ],
    },
    classifiers=["Programming Language :: Python :: 3", "Topic :: Scientific/Engineering :: Image Processing"],
)
