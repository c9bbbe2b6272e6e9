"""The synthetic force: a generated extract that follows the data contract, and its truth.

Public API::

    from adapt.synthetic import generate, GeneratorConfig
    summary = generate(out_dir, GeneratorConfig(seed=1, incidents=5000), truth_dir=None)

Modules, one job each: ``names`` (word lists, nickname table), ``relationships``
(perpetrator careers and dyads), ``population`` (people, households, homes),
``incidents`` (offence and incident facts), ``events`` (homicide, custody,
MARAC, management), ``district`` (one chunk's true world), ``noise`` (recording
noise), ``extract`` (contract tables and truth as text), ``badrows`` (planted
bad rows), ``forces`` (several forces: force-prefixed ids, serial perpetrators
who move between forces), ``writer`` (CSV bytes) and ``generator`` (config and
chunk loop).
"""

from adapt.synthetic.generator import GeneratorConfig, generate

#: Bumped whenever a seed's output changes, so caches of generated forces
#: (``adapt.pipeline.synthetic_history``) are never read across versions.
#: 2: issue 13 item 5, the generator made as hard as the research figures.
GENERATOR_VERSION = 2

__all__ = ["GENERATOR_VERSION", "GeneratorConfig", "generate"]
