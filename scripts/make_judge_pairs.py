"""Write data/eval/judge_pairs.jsonl: hand-labelled sentence/passage pairs for judging the judges.

The sentences below were written by hand against real passages of the corpus (chunk ids from the
index; the passage text is copied into the file so the set stays fixed when chunking changes).
Per passage five kinds, labelled by a person, not by any judge:
  supported    says what the passage says, mostly in its words                      -> supported
  paraphrased  the same meaning in other words (or in English)                       -> supported
  number       one number or date changed, or a number the passage does not give    -> unsupported
  actor        the wrong actor, group, law or relation (often with words the passage does contain)
                                                                                     -> unsupported
  unrelated    a true sentence from another passage                                 -> unsupported

Number claims (NUMBER_BASES, issue 23): passages with figures, and sentences that keep a figure, write it
the way the asker's language does, or change it the ways LLMs change figures:
  separator    the same figure in another language's notation ("68,3%" → "68.3%", "51.000" → "51,000")
                                                                                     -> supported
  figures      a paraphrase keeping every figure (number words, another unit spelling) -> supported
  decimal      a decimal mark or separator moved ("68,3" → "6,83", "51.000" → "5.100") -> unsupported
  range        a range reversed or its direction turned (gestegen ↔ gedaald, meer ↔ minder)
                                                                                     -> unsupported
  magnitude    the magnitude word changed (miljoen → miljard, 50.000 → 50 million)   -> unsupported
  unit         the unit changed (% ↔ procentpunt, € → jaar)                          -> unsupported

    .venv/bin/python scripts/make_judge_pairs.py      # needs the built index (make index)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.config import PROJECT_ROOT, load_settings  # noqa: E402
from rag.search.stores.faiss_store import load_index  # noqa: E402

BASES = [
    ("voortgang-agenda-integratie-2013#c16bc81e68", "nl", {
        "supported": "Op 19 december 2013 is een brief over de ontwikkeling van de participatieverklaring naar de Tweede Kamer gestuurd.",
        "paraphrased": "De Kamer kreeg in december 2013 een brief over hoe de participatieverklaring werd ontwikkeld.",
        "number": "Op 19 november 2013 is een brief over de participatieverklaring naar de Tweede Kamer gestuurd.",
        "actor": "Op 19 december 2013 stuurde de Onderwijsraad een brief over de participatieverklaring naar de Tweede Kamer.",
    }),
    ("voortgang-agenda-integratie-2013#361aa73ffe", "nl", {
        "supported": "Aan de tweede landelijke ontmoetingsdag van het platform «eer en vrijheid» namen ongeveer 150 mensen deel.",
        "paraphrased": "Zo'n 150 deelnemers, onder wie politie en hulpverleners, kwamen naar de ontmoetingsdag over deskundigheidsbevordering.",
        "number": "Aan de tweede landelijke ontmoetingsdag van het platform «eer en vrijheid» namen ongeveer 250 mensen deel.",
        "actor": "Sinds juni 2013 kunnen gemeenteambtenaren van de burgerlijke stand zich met een e-learning module over huwelijksdwang gratis online bijscholen.",
    }),
    ("kst-32824-445#3ca1fcfd3b", "nl", {
        "supported": "Over de contacten met gemeenten, gemeenschappen en professionals over sociale stabiliteit wordt niet gerapporteerd.",
        "paraphrased": "Van deze gesprekken met gemeenten en gemeenschappen maakt het ministerie geen verslag.",
        "number": "In 2023 sprak SZW met 40 gemeenten over sociale stabiliteit.",
        "actor": "Door te spreken met gemeenten en gemeenschappen haalt de AIVD beelden op over sociale stabiliteit.",
    }),
    ("kst-32824-445#a78ef02f70", "nl", {
        "supported": "Er is geen eenduidig openbaar overzicht vanwege de plicht om persoonsgegevens te beschermen en de afwezigheid van een formele status van de gesprekspartners.",
        "paraphrased": "Omdat persoonsgegevens beschermd moeten worden en de gesprekspartners geen formele status hebben, houdt het ministerie geen openbare lijst bij.",
        "number": "Het ministerie onderhoudt contact met meer dan 200 vaste gesprekspartners.",
        "actor": "Kennisinstituten en zelforganisaties zijn geen gesprekspartner van SZW.",
    }),
    ("ek-nma-intrekking-wom-2013#6109e06a2e", "nl", {
        "supported": "Voor het integratiebeleid zijn kennisinstituten als FORUM en het SCP belangrijke kennisbronnen.",
        "paraphrased": "De regering ziet onder meer FORUM en het SCP als belangrijke bronnen van kennis voor het integratiebeleid.",
        "number": "De LOM-organisaties krijgen in 2015 en 2016 een afbouwsubsidie om zich voor te bereiden op een zelfstandige toekomst.",
        "actor": "Voor het integratiebeleid zijn kennisinstituten als FORUM en het CBS belangrijke kennisbronnen.",
    }),
    ("ek-nma-intrekking-wom-2013#094f64dd5d", "nl", {
        "supported": "Volgens de minister gaat het niet om strikte representativiteit voor een etnische groep naar herkomstland, maar om representativiteit voor een relevant onderwerp.",
        "paraphrased": "Een organisatie hoeft geen hele etnische groep te vertegenwoordigen; het gaat erom dat ze representatief is voor het onderwerp waarover wordt gesproken.",
        "number": "De regering voert de dialoog met de samenleving sinds 2005 met twaalf vaste organisaties.",
        "actor": "De leden van de PvdA-fractie vinden strikte representativiteit voor een etnische groep naar herkomstland niet van belang.",
    }),
    ("voortgang-agenda-integratie-2013#6c057f1f50", "en", {
        "supported": "The Minister of the Interior and Kingdom Relations is responsible for implementing the Municipal Anti-Discrimination Services Act.",
        "paraphrased": "Carrying out the law on local anti-discrimination services falls to the Interior Minister, who also coordinates across government.",
        "number": "This responsibility was reported earlier in parliamentary paper 30 950, no. 85.",
        "actor": "The Minister of Justice is responsible for implementing the Municipal Anti-Discrimination Services Act.",
    }),
    ("voortgang-agenda-integratie-2013#b4022ca749", "nl", {
        "supported": "De Roma vormen een aandachtsgroep, in het bijzonder wat betreft schoolparticipatie, vrije partnerkeuze en criminaliteit.",
        "paraphrased": "Vanwege een te grote kloof in opvattingen en gedrag krijgen Roma extra aandacht, vooral als het gaat om schoolbezoek en het zelf kiezen van een partner.",
        "number": "De kabinetsreactie op de Roma-monitor staat in Kamerstuk 32 824, nr. 64.",
        "actor": "De Roma-monitor is opgesteld door de Europese Commissie en door haar naar de Tweede Kamer gestuurd.",
    }),
    ("voortgang-agenda-integratie-2013#6a0b84185e", "nl", {
        "supported": "Bij het mentorproject helpen werkgevers hoger opgeleide allochtone jongeren, die op hun beurt lager opgeleide allochtone jongeren helpen.",
        "paraphrased": "Werkgevers begeleiden hoger opgeleide allochtone jongeren, die daarna zelf jongeren met een lagere opleiding helpen: train de trainer.",
        "number": "Het traject voor mentorprojecten is gestart op 19 december in aanwezigheid van Mirjam Sterk.",
        "actor": "Bij het mentorproject helpen grote gemeenten hoger opgeleide allochtone jongeren, die weer lager opgeleide jongeren helpen.",
    }),
    ("brief-2013-0000024260#910bc9f38a", "en", {
        "supported": "Minister Leers said that both proposals contained elements that fit the new way of working.",
        "paraphrased": "According to Leers, parts of both plans matched the new approach.",
        "number": "After the LOM meeting of 12 January 2012, civil servants held talks with three of the LOM organisations.",
        "actor": "Minister Asscher said that both proposals contained elements that fit the new way of working.",
    }),
    ("vragen-actieagenda-integratie-2024#f9064ee689", "nl", {
        "supported": "Volgens het CBS leven Nederlanders zonder migratieachtergrond vaker gesegregeerd.",
        "paraphrased": "Juist mensen zonder migratieachtergrond leven volgens het CBS vaker gescheiden van andere groepen in de samenleving.",
        "number": "Het CBS concludeerde in 2021 dat Nederlanders zonder migratieachtergrond vaker gesegregeerd leven.",
        "actor": "Volgens het CBS leven Nederlanders met een migratieachtergrond vaker gesegregeerd.",
    }),
    ("vragen-actieagenda-integratie-2024#67755139e0", "nl", {
        "supported": "Netwerkpro traint in de pilot tenminste 40 vrouwen in een empowerment-, netwerk- en sollicitatieprogramma.",
        "paraphrased": "In de tweejarige pilot krijgen minstens veertig vrouwen uit gesloten gemeenschappen een training in empowerment, netwerken en solliciteren.",
        "number": "Netwerkpro traint in de pilot tenminste 60 vrouwen in een empowerment-, netwerk- en sollicitatieprogramma.",
        "actor": "De VNG voert in opdracht van het ministerie een tweejarige pilot uit voor vrouwen uit gesloten gemeenschappen.",
    }),
    ("vragen-actieagenda-integratie-2024#4797fb3e7f", "nl", {
        "supported": "Via het programma «Zelfbeschikking: Jezelf Kunnen Zijn» wordt in totaal € 370.000 aan zes initiatieven besteed.",
        "paraphrased": "Zes initiatieven krijgen samen 370 duizend euro, verdeeld over 2024 en 2025, uit het programma met het Oranje Fonds.",
        "number": "Via het programma «Zelfbeschikking: Jezelf Kunnen Zijn» wordt in totaal € 370.000 aan acht initiatieven besteed.",
        "actor": "Via het programma «Zelfbeschikking: Jezelf Kunnen Zijn» met het Kansfonds wordt € 370.000 aan zes initiatieven besteed.",
    }),
    ("vragen-actieagenda-integratie-2024#daaaea64cb", "nl", {
        "supported": "Het weigeren van algemeen geaccepteerde arbeid is in de Participatiewet niet toegestaan.",
        "paraphrased": "Wie een startbaan afslaat, kan volgens de regels van de Participatiewet een lagere uitkering krijgen.",
        "number": "Wie algemeen geaccepteerde arbeid weigert, krijgt volgens de Participatiewet 20 procent minder uitkering.",
        "actor": "Volgens de Wet inburgering is het weigeren van algemeen geaccepteerde arbeid niet toegestaan.",
    }),
    ("vragen-actieagenda-integratie-2024#68564f8e2f", "en", {
        "supported": "In early 2024 the French Constitutional Council struck down the law for legal-technical reasons.",
        "paraphrased": "France's constitutional court annulled the plan at the start of 2024 on technical legal grounds.",
        "number": "At the end of 2021 the French government planned longer waiting times for non-European immigrants.",
        "actor": "In early 2024 the German Constitutional Court struck down the law for legal-technical reasons.",
    }),
    ("vragen-actieagenda-integratie-2024#144a8bbc1d", "nl", {
        "supported": "Binnen het traject is een tussentijdse voortgangsrapportage gepland aan het eind van Q2 2025.",
        "paraphrased": "Aan het eind van het tweede kwartaal van 2025 volgt een tussentijds verslag over de voortgang, waarna de Kamer kan worden geïnformeerd.",
        "number": "Binnen het traject is een tussentijdse voortgangsrapportage gepland aan het eind van Q3 2025.",
        "actor": "De Inspectie SZW stelt de tussentijdse voortgangsrapportage op en informeert daarna zelf de Tweede Kamer.",
    }),
]

NUMBER_BASES = [
    ("vragen-actieagenda-integratie-2024#6e6c76c6a9", [
        ("separator", "en", "Between 2003 and 2023 the labour participation rate of people with a non-European background rose from 57.1% to 68.3%."),
        ("separator", "tr", "2003 ile 2023 yılları arasında Avrupa dışı kökenli grubun işgücüne katılım oranı %57,1'den %68,3'e yükseldi."),
        ("decimal", "nl", "De participatiegraad van de groep met een buiten-Europese achtergrond is tussen 2003 en 2023 gestegen van 57,1% tot 6,83%."),
        ("range", "nl", "De participatiegraad van de groep met een buiten-Europese achtergrond is tussen 2003 en 2023 gestegen van 68,3% tot 57,1%."),
        ("range", "nl", "De participatiegraad van de groep met een buiten-Europese achtergrond is tussen 2003 en 2023 gedaald van 57,1% tot 68,3%."),
        ("unit", "nl", "De achterstand op het Nederlandse gemiddelde is tussen 2003 en 2023 afgenomen van 7,1% tot 4,8%."),
        ("figures", "nl", "In twintig jaar steeg de arbeidsparticipatie van mensen met een buiten-Europese achtergrond tot 68,3 procent."),
        ("figures", "nl", "De achterstand in havo- en vwo-deelname van leerlingen met een buiten-Europese migratieachtergrond is in twaalf jaar gehalveerd, van 12 naar 6 procentpunt."),
        ("range", "en", "Among second-generation Turkish and Moroccan students the share at MBO level 4 fell from 60% and 65% in 2013/2014 to 42% in 2023/2024."),
    ]),
    ("vragen-actieagenda-integratie-2024#75fa3cde8e", [
        ("separator", "en", "The over-representation of people with a non-European background among crime suspects shrank from 2.4 percentage points in 2005 to 0.8 percentage points in 2023."),
        ("decimal", "nl", "De oververtegenwoordiging in de verdachtencijfers voor de groep met buiten-Europese achtergrond is geslonken van 24%-punt in 2005 tot 0,8%-punt in 2023."),
        ("range", "nl", "De oververtegenwoordiging in de verdachtencijfers voor de groep met buiten-Europese achtergrond is gegroeid van 0,8%-punt in 2005 tot 2,4%-punt in 2023."),
        ("unit", "nl", "De oververtegenwoordiging in de verdachtencijfers voor de groep met buiten-Europese achtergrond is geslonken van 2,4% in 2005 tot 0,8% in 2023."),
    ]),
    ("vragen-actieagenda-integratie-2024#c6da33a92d", [
        ("separator", "en", "Over-representation in social assistance was 7.7 percentage points in 2015 and by 2023 had fallen by only 1.6 points, to 6.1 points."),
        ("figures", "nl", "De oververtegenwoordiging in de bijstand daalde tussen 2015 en 2023 met maar 1,6 procentpunt, tot 6,1 procentpunt."),
        ("decimal", "nl", "De oververtegenwoordiging in de bijstand bedroeg in 2015 nog 77%-punt."),
        ("range", "nl", "De oververtegenwoordiging in de bijstand is tussen 2015 en 2023 gestegen van 7,7%-punt tot 6,1%-punt."),
        ("unit", "nl", "De bijstandsafhankelijkheid van groepen met een buiten-Europese achtergrond is tussen 2015 en 2023 met 1,6 procent gedaald."),
    ]),
    ("vragen-actieagenda-integratie-2024#f46a0e0c42", [
        ("separator", "en", "In June 2022, 55.1% of refugees with a residence permit received social assistance."),
        ("separator", "uk", "У червні 2022 року 55,1% власників статусу біженця отримували соціальну допомогу."),
        ("decimal", "nl", "In juni 2022 had 5,51% van de statushouders een bijstandsuitkering."),
        ("figures", "nl", "Van wie in 2014 een status kreeg, had na twee jaar 91 procent een uitkering en na 8,5 jaar nog 34 procent."),
        ("range", "nl", "Van de statushouders die in 2014 status kregen, ontving na 2 jaar 34% een uitkering; dat nam toe tot 91% na 8,5 jaar."),
    ]),
    ("voortgang-agenda-integratie-2013#7e1c80e581", [
        ("magnitude", "nl", "Voor de handhaving van inburgeringsplichtigen is eenmalig € 20 miljard beschikbaar gesteld."),
        ("magnitude", "en", "A one-off 20 billion euros was made available for enforcing the integration requirement from 2014."),
        ("magnitude", "tr", "Uyum yükümlülüğünün denetimi için bir kerelik 20 milyar avro ayrıldı."),
        ("separator", "en", "A one-off €20 million was made available to enforce the civic integration requirement in 2014 and later years."),
        ("separator", "pl", "Na egzekwowanie obowiązku integracji przeznaczono jednorazowo 20 mln euro."),
        ("figures", "nl", "Gemeenten krijgen eenmalig twintig miljoen euro om inburgeringsplichtigen te handhaven."),
        ("separator", "en", "On 1 October 2013 just over 51,000 people nationally still had to meet the integration requirement."),
        ("decimal", "nl", "Op 1 oktober 2013 moesten landelijk nog ruim 5.100 personen aan de inburgeringsplicht voldoen."),
        ("unit", "nl", "Voor de handhaving van inburgeringsplichtigen is 20 jaar lang geld beschikbaar gesteld."),
    ]),
    ("vragen-actieagenda-integratie-2024#4797fb3e7f", [
        ("magnitude", "nl", "Voor de periode 2022–2025 is ongeveer € 1,3 miljard beschikbaar voor zelfbeschikking."),
        ("decimal", "nl", "Voor de periode 2022–2025 is ongeveer € 13 mln. beschikbaar voor zelfbeschikking."),
        ("separator", "en", "About €1.3 million is available for self-determination over the period 2022–2025."),
        ("figures", "nl", "Dit jaar is ruim 300.000 euro aan subsidies en opdrachten verstrekt."),
        ("separator", "en", "Six initiatives receive €370,000 in total over two years (2024–2025)."),
        ("magnitude", "en", "The Alliance for Change from Within 2.0 receives €50 million a year."),
        ("decimal", "nl", "In totaal wordt aan zes initiatieven € 37.000 besteed gedurende twee jaar."),
    ]),
    ("vragen-actieagenda-integratie-2024#6f7ff94e50", [
        ("figures", "nl", "In de hele bevolking heeft 77 procent van de mannen betaald werk en 69 procent van de vrouwen."),
        ("separator", "en", "Among migrants, 72 percent of men and 61 percent of women have paid work."),
        ("unit", "nl", "Bij migranten is het man-vrouwverschil in betaald werk 72 tegen 61 procentpunt."),
        ("range", "nl", "Het man-vrouwverschil in betaald werk is bij migranten kleiner (72 tegen 61 procent)."),
    ]),
    ("vragen-actieagenda-integratie-2024#600f3e1d65", [
        ("separator", "en", "For 60% of women murdered in the Netherlands between 2017 and 2021 the (suspected) killer was a partner or ex-partner; for men it was 5%."),
        ("decimal", "nl", "Bij 6,0% van de vrouwen die tussen 2017 en 2021 in Nederland werden vermoord, was de dader de (ex-)partner."),
        ("figures", "ar", "في 60٪ من حالات قتل النساء في هولندا بين 2017 و2021 كان الجاني شريكاً أو شريكاً سابقاً."),
    ]),
    ("voortgang-agenda-integratie-2013#3f0e222845", [
        ("separator", "en", "Since 2012, aldermen of 41 municipalities where 12.5 percent or more of residents are non-Western migrants have been consulted."),
        ("decimal", "nl", "Vanaf 2012 is met wethouders gesproken van 41 gemeenten met 1,25 procent of meer niet-westerse allochtonen."),
        ("range", "nl", "Vanaf 2012 is met wethouders gesproken van 41 gemeenten met 12,5 procent of minder niet-westerse allochtonen."),
    ]),
    ("voortgang-agenda-integratie-2013#5a499275cf", [
        ("unit", "nl", "In de eerste helft van 2013 bleef het slagingspercentage voor de eerste examenpoging stabiel op 80 procentpunt."),
        ("figures", "en", "In the first half of 2013 the pass rate for the first exam attempt stayed stable at 80 percent."),
    ]),
    ("vragen-actieagenda-integratie-2024#9ce1cd4194", [
        ("separator", "en", "Ukrainians rate their own Dutch at 2.2 on a scale from 1 to 10 on average."),
        ("decimal", "nl", "Oekraïners geven hun eigen Nederlandse taalvaardigheid gemiddeld een 22 op de schaal van 1 tot 10."),
    ]),
]

LABEL = {"supported": True, "paraphrased": True, "number": False, "actor": False, "unrelated": False,
         "separator": True, "figures": True, "decimal": False, "range": False, "magnitude": False, "unit": False}
UNRELATED_OFFSET = 7  # the unrelated sentence is the "supported" one of the base this many places on


def main() -> int:
    index = load_index(load_settings().index_dir, {})
    chunks = {c.id: c for c in index.chunks}
    rows = []
    for i, (chunk_id, lang, sentences) in enumerate(BASES):
        other_id, other_lang, other = BASES[(i + UNRELATED_OFFSET) % len(BASES)]
        kinds = {**sentences, "unrelated": other["supported"]}
        for kind, sentence in kinds.items():
            rows.append({"id": f"jp{i + 1:02d}-{kind}", "kind": kind,
                         "lang": other_lang if kind == "unrelated" else lang,
                         "sentence": sentence, "passage_id": chunk_id, "passage": chunks[chunk_id].text,
                         "supported": LABEL[kind]})
    for i, (chunk_id, sentences) in enumerate(NUMBER_BASES):
        seen: dict[str, int] = {}
        for kind, lang, sentence in sentences:
            seen[kind] = seen.get(kind, 0) + 1
            rows.append({"id": f"jn{i + 1:02d}-{kind}{seen[kind]}", "kind": kind, "lang": lang, "sentence": sentence,
                         "passage_id": chunk_id, "passage": chunks[chunk_id].text, "supported": LABEL[kind]})
    out = PROJECT_ROOT / "data" / "eval" / "judge_pairs.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} pairs written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
