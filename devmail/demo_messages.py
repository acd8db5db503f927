"""Texts of the demo mailbox: invented people, invented patients, invented organisations.

Only `.test`/`.example` domains (RFC 2606), so no demo address can ever reach anyone.
Each entry: folder, sender (name, address), subject, body, days ago, flags.
"""

from __future__ import annotations

MARTIN = ("Dr Claire Martin", "dr.martin@pli.test")
SECRETARIAT = ("Secrétariat du Dr Martin", "secretariat.martin@pli.test")
DURAND = ("Dr Paul Durand", "dr.durand@pli.test")
LABO = ("Laboratoire Biolab Confluence", "resultats@biolab-confluence.example")
CHU = ("Service de cardiologie – CH Saint-Exemple", "cardiologie@ch-saint-exemple.example")
PHARMACIE = ("Pharmacie des Tilleuls", "contact@pharmacie-tilleuls.example")
INFIRMIERE = ("Sophie Lambert, IDE libérale", "s.lambert@infirmiers-exemple.example")
KINE = ("Cabinet de kinésithérapie du Parc", "kine.parc@kine-exemple.example")
EHPAD = ("EHPAD Les Glycines", "infirmerie@ehpad-glycines.example")
CPTS = ("CPTS Val d'Exemple", "coordination@cpts-exemple.example")
SUPPORT = ("Support messagerie sécurisée", "support@messagerie-exemple.example")
DERMATO = ("Dr Inès Roussel", "dr.roussel@dermato-exemple.example")

SEEN = ("\\Seen",)
UNREAD: tuple[str, ...] = ()

SIGN_DURAND = "\n\nBien confraternellement,\nDr Paul Durand\nCardiologue – Cabinet du Parc"
SIGN_MARTIN = "\n\nBien confraternellement,\nDr Claire Martin\nMédecin généraliste"

INBOX: list[tuple[tuple[str, str], str, str, int, tuple[str, ...]]] = [
    (DURAND, "Avis cardiologique – M. Bernard L. (62 ans)",
     "Chère consœur,\n\nJ'ai revu ce jour M. Bernard L., que vous m'avez adressé pour des "
     "palpitations d'effort. L'ECG est en rythme sinusal, l'échographie cardiaque est "
     "normale (FEVG 60 %). Je propose un Holter ECG de 24 heures, que mon secrétariat "
     "programme, et je vous tiens informée." + SIGN_DURAND, 38, SEEN),
    (LABO, "Résultats d'analyses – Mme Dupont S. (NFS, ionogramme)",
     "Bonjour Docteur,\n\nLes résultats du bilan prescrit le 12 sont disponibles : NFS sans "
     "anomalie, natrémie 139 mmol/L, kaliémie 4,1 mmol/L, créatinine 72 µmol/L (DFG estimé "
     "> 90 mL/min).\n\nLe compte rendu complet est disponible sur votre espace "
     "professionnel.\n\nLaboratoire Biolab Confluence", 35, SEEN),
    (SECRETARIAT, "Planning de la semaine prochaine",
     "Bonjour Docteur,\n\nVoici les points de la semaine prochaine :\n- lundi : "
     "consultations de 8 h 30 à 12 h, puis visites à domicile ;\n- mercredi après-midi : "
     "réunion de la CPTS à 14 h ;\n- vendredi : remplacement assuré par le Dr Faure.\n\n"
     "Bonne fin de journée,\nLe secrétariat", 33, SEEN),
    (PHARMACIE, "Question sur une ordonnance – Mme Garnier",
     "Bonjour Docteur,\n\nMme Garnier nous présente une ordonnance d'amoxicilline 1 g "
     "trois fois par jour pendant 7 jours. Elle nous signale une allergie ancienne aux "
     "pénicillines. Pouvez-vous nous confirmer la prescription ou nous proposer une "
     "alternative ?\n\nCordialement,\nPharmacie des Tilleuls", 30, SEEN),
    (INFIRMIERE, "Pansement de Mme Rey – évolution",
     "Bonjour Docteur,\n\nL'ulcère de jambe de Mme Rey évolue favorablement : bourgeonnement "
     "de bonne qualité, plus d'écoulement. Je poursuis les pansements tous les deux jours. "
     "Je vous propose de la revoir ensemble dans quinze jours.\n\nSophie Lambert, IDE",
     27, SEEN),
    (CPTS, "Invitation : réunion de concertation pluriprofessionnelle",
     "Chères consœurs, chers confrères,\n\nLa prochaine réunion de concertation "
     "pluriprofessionnelle aura lieu le mercredi 18 à 14 h à la maison de santé. Ordre du "
     "jour : parcours des patients diabétiques, organisation des soins non programmés.\n\n"
     "Merci de confirmer votre présence.\n\nLa coordination de la CPTS", 25, SEEN),
    (LABO, "Résultats d'analyses – M. Petit A. (HbA1c, bilan lipidique)",
     "Bonjour Docteur,\n\nHbA1c : 7,4 % (précédente 7,9 %). LDL-cholestérol : 1,12 g/L. "
     "Triglycérides : 1,30 g/L.\n\nLaboratoire Biolab Confluence", 22, SEEN),
    (KINE, "Bilan de fin de séances – M. Colin",
     "Bonjour Docteur,\n\nAprès 15 séances de rééducation pour lombalgie commune, M. Colin "
     "a retrouvé une mobilité satisfaisante et pratique ses exercices d'auto-rééducation. "
     "Une nouvelle prescription ne nous paraît pas nécessaire.\n\nCordialement,\n"
     "Cabinet de kinésithérapie du Parc", 20, SEEN),
    (EHPAD, "Chute de Mme Fournier cette nuit",
     "Bonjour Docteur,\n\nMme Fournier a chuté cette nuit vers 3 h en se rendant aux "
     "toilettes. Pas de perte de connaissance, pas de douleur à la mobilisation de la "
     "hanche, petit hématome au coude droit. Pouvez-vous passer la voir lors de votre "
     "prochaine visite ?\n\nL'infirmerie de l'EHPAD Les Glycines", 17, SEEN),
    (DERMATO, "Adressage – lésion pigmentée, M. Leroy",
     "Chère consœur,\n\nMerci de m'avoir adressé M. Leroy. La lésion du dos est un nævus "
     "d'aspect bénin en dermoscopie ; je propose une surveillance annuelle.\n\n"
     "Confraternellement,\nDr Inès Roussel, dermatologue", 14, SEEN),
    (SECRETARIAT, "Appel de Mme Petit – renouvellement",
     "Bonjour Docteur,\n\nMme Petit a appelé ce matin : elle souhaite le renouvellement de "
     "son traitement habituel. Son dernier rendez-vous date de trois mois. Je lui propose "
     "un créneau jeudi ?\n\nLe secrétariat", 12, SEEN),
    (SUPPORT, "Maintenance programmée de la messagerie sécurisée",
     "Bonjour,\n\nUne opération de maintenance aura lieu dimanche entre 6 h et 8 h. La "
     "messagerie pourra être brièvement indisponible.\n\nL'équipe support", 10, SEEN),
    (DURAND, "Re: Holter de M. Bernard L.",
     "Chère consœur,\n\nLe Holter retrouve quelques extrasystoles ventriculaires isolées, "
     "sans trouble du rythme soutenu. Pas de traitement à introduire ; contrôle dans un an "
     "ou avant en cas de symptômes." + SIGN_DURAND, 8, SEEN),
    (LABO, "Résultats d'analyses – Mme Roux C. (TSH)",
     "Bonjour Docteur,\n\nTSH : 6,8 mUI/L (valeurs de référence 0,4–4,0). T4 libre "
     "normale. Un contrôle à 6 semaines est suggéré.\n\nLaboratoire Biolab Confluence",
     6, UNREAD),
    (INFIRMIERE, "Glycémies de M. Petit cette semaine",
     "Bonjour Docteur,\n\nGlycémies capillaires à jeun de M. Petit : entre 1,05 et "
     "1,32 g/L cette semaine, pas d'hypoglycémie.\n\nSophie Lambert, IDE", 4, UNREAD),
    (SECRETARIAT, "Courrier à signer",
     "Bonjour Docteur,\n\nJ'ai préparé les trois certificats demandés ; ils sont dans le "
     "parapheur sur votre bureau.\n\nLe secrétariat", 2, UNREAD),
    (CPTS, "Compte rendu de la réunion du 18",
     "Bonjour à toutes et à tous,\n\nVous trouverez ci-dessous les décisions de la "
     "réunion : mise en place d'une permanence de soins non programmés le samedi matin, "
     "diffusion d'un annuaire des correspondants.\n\nLa coordination", 1, UNREAD),
]

URGENT = (LABO, "URGENT : troponine élevée – M. Garcia R.",
          "Docteur,\n\nNous vous informons d'un résultat critique pour M. Garcia R. : "
          "troponine T hypersensible à 85 ng/L (seuil 14 ng/L). Le patient a été informé "
          "de vous contacter sans délai. Merci d'accuser réception de ce message.\n\n"
          "Biologiste de garde, Laboratoire Biolab Confluence", 0)

DISCHARGE = (CHU, "Compte rendu d'hospitalisation – M. Morel J.",
             "Chère consœur,\n\nVeuillez trouver ci-joint le compte rendu d'hospitalisation "
             "de M. Morel J., hospitalisé du 3 au 7 dans notre service pour une "
             "décompensation cardiaque. Le traitement de sortie est détaillé dans le "
             "document.\n\nLe secrétariat médical de cardiologie", 19)

DISCHARGE_PDF_LINES = [
    "Centre hospitalier Saint-Exemple - Service de cardiologie",
    "",
    "COMPTE RENDU D'HOSPITALISATION (document fictif de démonstration)",
    "",
    "Patient : M. Morel J., 74 ans",
    "Motif : décompensation cardiaque globale",
    "Évolution : favorable sous diurétiques, perte de 4 kg",
    "Traitement de sortie : furosémide 40 mg/j, bisoprolol 2,5 mg/j",
    "Suivi : consultation de cardiologie à 1 mois, ionogramme à J8",
]

NEWSLETTER = (("Actualités Santé Confluence", "lettre@actu-sante.example"),
              "La lettre des soignants – vaccination, nouveaux parcours", 29)
NEWSLETTER_HTML = """<!DOCTYPE html>
<html lang="fr"><body style="font-family: Arial, sans-serif; color: #1d2b36">
<img src="https://actu-sante.example/images/bandeau.png" width="600" height="120"
     alt="Actualités Santé Confluence">
<h1>La lettre des soignants</h1>
<h2>Campagne de vaccination</h2>
<p>La campagne de vaccination antigrippale débute le mois prochain. Les officines et les
cabinets infirmiers du territoire participent.</p>
<h2>Nouveaux parcours</h2>
<p>Un parcours « insuffisance cardiaque » est proposé aux patients sortant
d'hospitalisation : <a href="https://actu-sante.example/parcours">en savoir plus</a>.</p>
<p style="font-size: small">Vous recevez cette lettre fictive de démonstration.</p>
</body></html>"""
NEWSLETTER_TEXT = ("La lettre des soignants\n\nCampagne de vaccination : début le mois "
                   "prochain.\nNouveaux parcours : https://actu-sante.example/parcours\n")

SUIVI = [
    (DURAND, "Suivi de M. Bernard L. – synthèse annuelle",
     "Chère consœur,\n\nSynthèse annuelle de M. Bernard L. : pas d'événement cardiovasculaire, "
     "observance correcte, pression artérielle à 128/78 mmHg." + SIGN_DURAND, 40, SEEN),
    (EHPAD, "Suivi de Mme Fournier – poids et appétit",
     "Bonjour Docteur,\n\nLe poids de Mme Fournier est stable (52 kg) et l'appétit s'améliore "
     "depuis l'adaptation des textures.\n\nL'infirmerie", 9, SEEN),
]

SENT = [
    ((DURAND), "Demande d'avis – M. Bernard L.",
     "Cher confrère,\n\nJe t'adresse M. Bernard L., 62 ans, pour des palpitations d'effort "
     "apparues depuis un mois. ECG de repos sans particularité au cabinet. Merci pour ton "
     "avis." + SIGN_MARTIN, 41),
    ((PHARMACIE), "Re: Question sur une ordonnance – Mme Garnier",
     "Bonjour,\n\nMerci pour votre vigilance. Je remplace l'amoxicilline par de la "
     "pristinamycine ; la nouvelle ordonnance vous est envoyée par la patiente.\n\n"
     "Dr Claire Martin", 30),
]
